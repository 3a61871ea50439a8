"""``bench learned_apply`` on a few hundred leads: the hand-written SQL baseline it measures
Baton against does the same work (same total score, same learned probabilities)."""

import io
import json

import pytest
from django.core.management import call_command


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_learned_apply_bench_compares_with_a_hand_written_update_that_gives_the_same_scores():
    out = io.StringIO()
    call_command("bench", "learned_apply", "--leads", "400", "--train", "300", "--sample", "100", stdout=out)
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["bench"] == "learned_apply" and result["leads"] == 400
    assert result["sql_same_total_score"] is True
    assert result["sql_max_learned_diff"] < 1e-9
    assert result["max_sql_python_diff"] < 1e-9
    assert result["ratio_vs_sql"] == pytest.approx(result["blended_rescore_s"] / result["hand_written_sql_s"], abs=0.01)
    assert len(result["load_avg"]) == 3
