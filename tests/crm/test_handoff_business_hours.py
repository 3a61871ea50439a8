import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from crm.business_hours import add_business_minutes

UTC = datetime.UTC
WEEKDAYS = [0, 1, 2, 3, 4]


def utc(*args):
    return datetime.datetime(*args, tzinfo=UTC)


def test_minutes_inside_the_window_count_straight_through():
    # Wednesday 10:00
    assert add_business_minutes(utc(2026, 11, 25, 10, 0), 60, days=WEEKDAYS) == utc(2026, 11, 25, 11, 0)


def test_a_friday_afternoon_hand_off_is_due_on_monday_morning():
    assert add_business_minutes(utc(2026, 11, 27, 16, 30), 60, days=WEEKDAYS) == utc(2026, 11, 30, 9, 30)


def test_before_opening_the_clock_starts_at_opening():
    assert add_business_minutes(utc(2026, 11, 25, 6, 0), 30, days=WEEKDAYS) == utc(2026, 11, 25, 9, 30)


def test_a_weekend_hand_off_starts_counting_on_monday():
    assert add_business_minutes(utc(2026, 11, 28, 12, 0), 15, days=WEEKDAYS) == utc(2026, 11, 30, 9, 15)


def test_hours_are_read_in_the_queue_time_zone():
    # 09:00 in New York in November is 14:00 UTC.
    due = add_business_minutes(utc(2026, 11, 25, 12, 0), 60, tz="America/New_York", days=WEEKDAYS)
    assert due == datetime.datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("America/New_York"))


def test_a_window_containing_a_dst_change_counts_real_minutes():
    # Europe/Berlin falls back at 03:00 on Sunday 2026-10-25; a 0-6 window that day lasts 7 hours.
    due = add_business_minutes(
        utc(2026, 10, 24, 23, 0),  # 01:00 local (CEST), Sunday
        6 * 60,
        tz="Europe/Berlin",
        start=datetime.time(0, 0),
        end=datetime.time(6, 0),
        days=[6],
    )
    assert due == utc(2026, 10, 25, 5, 0)  # 06:00 CET: six real hours after 01:00 CEST


def test_no_working_days_means_every_minute_counts():
    assert add_business_minutes(utc(2026, 11, 28, 12, 0), 15, days=[]) == utc(2026, 11, 28, 12, 15)


def test_an_unknown_time_zone_is_an_error_naming_the_field():
    with pytest.raises(ValidationError) as exc:
        add_business_minutes(utc(2026, 11, 25, 12, 0), 5, tz="Mars/Olympus", days=WEEKDAYS)
    assert "timezone" in exc.value.message_dict
