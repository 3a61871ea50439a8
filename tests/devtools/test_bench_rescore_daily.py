"""``bench rescore_daily`` on a few hundred leads: the daily job leaves every score where the
full re-score puts it, re-scores only the changed leads and qualifies each crossing once."""

import io
import json

import pytest
from django.core.management import call_command


@pytest.mark.django_db(transaction=True)
def test_rescore_daily_bench_compares_the_daily_job_with_a_full_rescore():
    out = io.StringIO()
    call_command("bench", "rescore_daily", "--leads", "400", "--changed", "0.05", stdout=out)
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["bench"] == "rescore_daily" and result["leads"] == 400 and result["changed"] == 0.05
    assert result["max_abs_diff"] < 1e-6
    assert result["missed_qualifications"] == 0 and result["double_qualifications"] == 0
    assert 0 < result["rescored"] <= 20 + 40  # the changed leads, plus the clock-reading fit rules' movers
    assert result["baton_s"] > 0 and result["full_s"] > 0 and len(result["load_avg"]) == 3
