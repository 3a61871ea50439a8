from crm.templatetags.call_list_tags import call_list_rows


def _row(**overrides):
    row = {
        "lead_id": 7,
        "url": "/calls/leads/7/",
        "name": "Ada Lovelace",
        "company": "Analytical",
        "phone": "",
        "bucket": 2,
        "bucket_label": "New",
        "badge": "",
        "outside_hours": False,
        "local_time": "",
        "reasons": [("ICP match", "+30")],
        "score": "30",
        "campaign": "Spring webinar",
        "sla_due": "",
        "sla_text": "",
        "sla_late": False,
        "callback": "",
        "check_in": "",
        "last_touch": "",
        "attempts": 0,
    }
    row.update(overrides)
    return row


def test_every_value_in_a_row_is_escaped():
    hostile = "<script>alert(1)</script>"
    html = call_list_rows(
        [
            _row(
                name=hostile,
                company=hostile,
                phone=hostile,
                campaign=hostile,
                reasons=[(hostile, hostile)],
                outside_hours=True,
                local_time=hostile,
                last_touch=hostile,
                url='" onclick="x',
            )
        ]
    )

    assert "<script>" not in html
    assert html.count("&lt;script&gt;") == 9  # the phone twice: link and text
    assert 'href="&quot; onclick=&quot;x"' in html


def test_rows_are_numbered_and_carry_their_lead_id_and_bucket():
    html = call_list_rows([_row(lead_id=1), _row(lead_id=2, bucket=0, badge="overdue", bucket_label="SLA overdue")])

    assert html.index('data-lead-id="1"') < html.index('data-lead-id="2"')
    assert '<td class="rank">1</td>' in html and '<td class="rank">2</td>' in html
    assert '<tr class="bucket-0" data-lead-id="2">' in html
    assert '<span class="badge overdue">SLA overdue</span>' in html


def test_the_due_cell_shows_the_sla_then_a_callback_then_a_check_in():
    sla = call_list_rows([_row(sla_due="2026-01-01T10:00:00+00:00", sla_text="overdue 5 min", sla_late=True)])
    callback = call_list_rows([_row(callback="Mon 10:00")])
    check_in = call_list_rows([_row(check_in="Nov 27")])
    nothing = call_list_rows([_row()])

    assert '<span class="sla late" data-due="2026-01-01T10:00:00+00:00">overdue 5 min</span>' in sla
    assert '<span class="muted">callback Mon 10:00</span>' in callback
    assert '<span class="muted">check-in Nov 27</span>' in check_in
    assert '<td><span class="muted">—</span></td>' in nothing


def test_a_row_without_reasons_shows_the_score_and_one_never_touched_says_never():
    html = call_list_rows([_row(reasons=[], score="42", last_touch="")])

    assert '<span class="muted">Score 42</span>' in html
    assert '<td class="optional"><span class="muted">never</span></td>' in html


def test_a_lead_outside_calling_hours_is_marked_with_its_local_time():
    html = call_list_rows([_row(outside_hours=True, local_time="22:15", phone="+49 30 1234")])

    assert 'class="bucket-2 outside-hours"' in html
    assert "Outside calling hours · 22:15 local" in html
    assert '<a href="tel:+49 30 1234" tabindex="-1">+49 30 1234</a>' in html


def test_the_outside_hours_badge_names_the_configured_calling_hours(settings):
    settings.CALLING_HOURS_START, settings.CALLING_HOURS_END = 8, 18

    html = call_list_rows([_row(outside_hours=True, local_time="19:05")])

    assert 'title="Calling hours are 08:00–18:00 local time"' in html


def test_only_the_first_row_takes_the_focus_when_asked():
    focused = call_list_rows([_row(lead_id=1), _row(lead_id=2)], start=51, focus_first=True)
    plain = call_list_rows([_row(lead_id=1), _row(lead_id=2)])

    assert focused.count(" autofocus") == 1
    assert focused.index(" autofocus") < focused.index('data-lead-id="2"')
    assert '<td class="rank">51</td>' in focused
    assert "autofocus" not in plain
