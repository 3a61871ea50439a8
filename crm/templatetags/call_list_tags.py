"""The call list's table rows, rendered in Python.

The page shows 50 rows of about twenty values each; through the template engine each row
cost about 80 µs (a node, a lookup, localisation and escaping per value), some 4 ms of a
page whose queries take less. Here every value is escaped with the same ``html.escape``
Django's autoescaping uses, and a row costs about a tenth of that. The markup is the one
the page always had; the rest of the page stays in ``crm/call_list.html``.
"""

from html import escape

from django import template
from django.conf import settings
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

ROW = (
    '<tr class="bucket-{bucket}{outside_class}" data-lead-id="{lead_id}">'
    '<td class="rank">{rank}</td>'
    '<td><a class="lead-link" href="{url}"{autofocus}>{name}</a>'
    '<div class="muted">{company}{phone}</div>'
    '<span class="badge {badge}">{bucket_label}</span>{outside_badge}</td>'
    '<td class="reasons">{reasons}</td>'
    '<td class="optional">{campaign}</td>'
    "<td>{due}</td>"
    '<td class="optional">{last_touch}</td>'
    "<td>{attempts}</td>"
    "</tr>\n"
)
PHONE = ' · <a href="tel:{0}" tabindex="-1">{0}</a>'
OUTSIDE_BADGE = (
    ' <span class="badge off-hours" title="Calling hours are {start:02d}:00–{end:02d}:00 local time">'
    "Outside calling hours · {local_time} local</span>"
)
REASON = '<span class="reason">{} <b>{}</b></span>'
NO_REASONS = '<span class="muted">Score {}</span>'
SLA = '<span class="sla{}" data-due="{}">{}</span>'
MUTED = '<span class="muted">{}</span>'
CALLBACK_LATE = '<span class="callback late">{}</span>'
NOTHING_DUE = '<span class="muted">—</span>'
NEVER = '<span class="muted">never</span>'


def _e(value) -> str:
    """Django's ``escape`` (the same ``html.escape``) without its lazy-string wrapper."""
    return escape(str(value))


def call_list_row(rank: int, row: dict, *, autofocus: bool = False) -> str:
    """One row of the call list from ``CallListRow.display()``. Every value from the row
    goes through ``_e``; only the constant markup above is not escaped."""
    if row["reasons"]:
        reasons = "".join(REASON.format(_e(label), _e(points)) for label, points in row["reasons"])
    else:
        reasons = NO_REASONS.format(_e(row["score"]))
    if row["sla_due"]:
        due = SLA.format(" late" if row["sla_late"] else "", _e(row["sla_due"]), _e(row["sla_text"]))
    elif row.get("callback_late"):
        due = CALLBACK_LATE.format(_e(f"callback {row['callback_late']} (was due {row['callback']})"))
    elif row["callback"]:
        due = MUTED.format(_e(f"callback {row['callback']}"))
    elif row["check_in"]:
        due = MUTED.format(_e(f"check-in {row['check_in']}"))
    else:
        due = NOTHING_DUE
    return ROW.format(
        bucket=_e(row["bucket"]),
        outside_class=" outside-hours" if row["outside_hours"] else "",
        lead_id=_e(row["lead_id"]),
        rank=rank,
        url=_e(row["url"]),
        autofocus=" autofocus" if autofocus else "",
        name=_e(row["name"]),
        company=_e(row["company"]),
        phone=PHONE.format(_e(row["phone"])) if row["phone"] else "",
        badge=_e(row["badge"]),
        bucket_label=_e(row["bucket_label"]),
        outside_badge=OUTSIDE_BADGE.format(
            start=settings.CALLING_HOURS_START, end=settings.CALLING_HOURS_END, local_time=_e(row["local_time"])
        )
        if row["outside_hours"]
        else "",
        reasons=reasons,
        campaign=_e(row["campaign"]),
        due=due,
        last_touch=_e(row["last_touch"]) if row["last_touch"] else NEVER,
        attempts=_e(row["attempts"]),
    )


@register.simple_tag
def call_list_rows(rows, start: int = 1, focus_first: bool = False) -> SafeString:
    """``{% call_list_rows rows start=51 focus_first=True %}``: the table body's rows, numbered
    from ``start``; with ``focus_first`` the first lead link takes the focus (htmx focuses an
    ``autofocus`` element it swaps in), so the keyboard carries on where the new rows begin."""
    return mark_safe(  # noqa: S308
        "".join(
            call_list_row(rank, row, autofocus=focus_first and rank == start)
            for rank, row in enumerate(rows, start=start)
        )
    )
