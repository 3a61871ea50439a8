"""Business-hours arithmetic for first-touch SLAs.

A queue works ``days`` (0 = Monday) from ``start`` to ``end`` local time in ``tz``. An SLA of
N minutes handed off on Friday at 16:30 in a 9-17 queue is due on Monday at 9:30. Times are
computed in the queue's zone with aware datetimes, so a DST change inside a window counts the
real minutes of that day.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError

ALL_DAYS = (0, 1, 2, 3, 4, 5, 6)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError({"timezone": f"'{name}' is not an IANA time zone."}) from None


def add_business_minutes(
    at: datetime.datetime,
    minutes: int,
    *,
    tz: str = "UTC",
    start: datetime.time = datetime.time(9, 0),
    end: datetime.time = datetime.time(17, 0),
    days=ALL_DAYS,
) -> datetime.datetime:
    """The moment ``minutes`` business minutes after ``at`` (an aware datetime).

    Minutes outside the working window do not count; a hand-off outside hours starts counting
    at the next window's opening. With no working days configured every minute counts.
    """
    if at.tzinfo is None:
        raise ValueError("add_business_minutes needs an aware datetime")
    workdays = {int(d) for d in days or ()}
    if not workdays or start >= end:
        return at + datetime.timedelta(minutes=minutes)
    zi = zone(tz)
    remaining = datetime.timedelta(minutes=minutes)
    utc = datetime.UTC
    cursor = at.astimezone(utc)
    # One iteration per calendar day.
    for _ in range(366 * 2):
        # Arithmetic in UTC: aware datetimes sharing a zone add and subtract wall-clock time.
        day = cursor.astimezone(zi).date()
        opens = datetime.datetime.combine(day, start, tzinfo=zi).astimezone(utc)
        closes = datetime.datetime.combine(day, end, tzinfo=zi).astimezone(utc)
        if day.weekday() in workdays and cursor < closes:
            begin = max(cursor, opens)
            available = closes - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        next_day = day + datetime.timedelta(days=1)
        cursor = datetime.datetime.combine(next_day, datetime.time(0, 0), tzinfo=zi).astimezone(utc)
    raise ValueError("SLA does not fit in two years of business hours")


def queue_sla_due(queue, at: datetime.datetime) -> datetime.datetime:
    """When the first touch of a lead handed to ``queue`` at ``at`` is due."""
    return add_business_minutes(
        at,
        queue.sla_minutes,
        tz=queue.timezone,
        start=queue.business_hours_start,
        end=queue.business_hours_end,
        days=queue.business_days,
    )
