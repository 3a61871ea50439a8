"""``python manage.py bench learned_apply``: applying the learned model set-based.

Data: the scoring benchmark's bench leads (``leads.benchmarks.ensure_leads``) and its demo
rules. A model is trained on a sample of them, labelled with the real outcome of the Bank
Marketing row each generated lead was made from, and activated: use a bench database.

Measured in the same run: the rules-only re-score (the scoring benchmark's subject), the
learned UPDATE alone, the blended re-score (learned UPDATE + rules), and the Python
application of the same model on a sample, extrapolated.
"""

from __future__ import annotations

import re
import time

BENCH_RE = re.compile(r"^bench(\d+)\.")


def learned_apply_arguments(parser) -> None:
    parser.add_argument("--leads", type=int, default=100_000, help="bench leads (default 100000)")
    parser.add_argument("--train", type=int, default=20_000, help="leads the model is trained on")
    parser.add_argument("--sample", type=int, default=5_000, help="leads for the Python baseline")
    parser.add_argument("--fresh", action="store_true", help="rebuild the bench data")


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def learned_apply_run(options, stdout) -> dict:
    import numpy as np
    from django.db import connection, transaction
    from django.db.models import Max
    from django.utils import timezone

    from leads.benchmarks import BENCH_PREFIX, _vacuum, ensure_leads, install_demo_rules
    from leads.demo import lead_values
    from leads.models import Lead, ScoringPolicy
    from leads.scoring import leads_rescore_all

    from .apply import learned_scores_apply, model_logistic, python_probability
    from .features import EVENTS_PREFIX, LEAD_FIELDS, event_counts_for, feature_kinds, lead_row
    from .learner import train_logistic
    from .models import LearnedModel, LearnedModelStatus, LearnedWeight

    def say(text):
        stdout.write(text)
        stdout.flush()

    ensure_leads(options["leads"], fresh=options["fresh"], stdout=stdout)
    install_demo_rules()
    total = Lead.objects.count()
    now = timezone.now()

    sample = list(Lead.objects.filter(email__startswith=BENCH_PREFIX).order_by("?")[: options["train"]])
    counts = event_counts_for([lead.pk for lead in sample])
    rows = [lead_row(lead, counts.get(lead.pk)) for lead in sample]
    y = np.array(
        [
            1.0 if lead_values(int(BENCH_RE.match(lead.email).group(1)), seed=7, now=now)["outcome_positive"] else 0.0
            for lead in sample
        ]
    )
    names = list(LEAD_FIELDS) + sorted({k for row in rows for k in row if k.startswith("attr.")})
    names += sorted({k for row in rows for k, v in row.items() if k.startswith(EVENTS_PREFIX) and v})
    model, train_s = _timed(
        lambda: train_logistic(
            rows, y, names, kinds=feature_kinds(rows, names), exact=True, lambdas=(3.0,), bins_grid=(10,)
        )
    )
    say(f"Trained on {len(rows)} leads ({int(y.sum())} positive) in {train_s:.1f} s: {len(model.weights)} weights")
    with transaction.atomic():
        version = (LearnedModel.objects.aggregate(v=Max("version"))["v"] or 0) + 1
        LearnedModel.objects.filter(is_active=True).update(is_active=False)
        stored = LearnedModel.objects.create(
            version=version,
            status=LearnedModelStatus.READY,
            window_start=now,
            window_end=now,
            features=[s.to_dict() for s in model.specs],
            intercept=model.intercept,
            positives=int(y.sum()),
            negatives=int(len(y) - y.sum()),
            metrics={"note": "bench model"},
            trained_at=now,
            is_active=True,
        )
        LearnedWeight.objects.bulk_create(
            LearnedWeight(
                model=stored,
                **{k: r[k] for k in ("feature", "kind", "value", "lower", "upper", "is_missing", "weight")},
            )
            for r in model.weight_rows()
        )

    policy = ScoringPolicy.current()
    saved_mode, saved_weight = policy.learned_mode, policy.learned_weight
    try:
        ScoringPolicy.objects.filter(pk=policy.pk).update(learned_mode="off")
        leads_rescore_all(now=now, qualify=False)  # warm-up
        _vacuum()
        _, rules_s = _timed(lambda: leads_rescore_all(now=now, qualify=False))
        say(f"Rules-only re-score of {total} leads: {rules_s:.2f} s")
        learned_scores_apply()  # warm-up
        Lead.objects.update(learned_score=None)
        _vacuum()
        written, learned_s = _timed(learned_scores_apply)
        say(f"Learned UPDATE, every lead rewritten ({written}): {learned_s:.2f} s ({total / learned_s:.0f} leads/s)")
        _vacuum()
        written_again, unchanged_s = _timed(learned_scores_apply)
        say(f"Learned UPDATE again, nothing changed ({written_again} rewritten): {unchanged_s:.2f} s")
        ScoringPolicy.objects.filter(pk=policy.pk).update(learned_mode="blend", learned_weight=20)
        _vacuum()
        _, blend_s = _timed(lambda: leads_rescore_all(now=now, qualify=False))
        say(
            f"Blended nightly re-score (learned refresh + rules): {blend_s:.2f} s = {blend_s / rules_s:.2f} x rules only"
        )
    finally:
        ScoringPolicy.objects.filter(pk=policy.pk).update(learned_mode=saved_mode, learned_weight=saved_weight)

    probe = list(Lead.objects.order_by("?")[: options["sample"]])
    logistic = model_logistic(stored)
    start = time.perf_counter()
    probe_counts = event_counts_for([lead.pk for lead in probe])
    python = {lead.pk: python_probability(logistic, lead, probe_counts.get(lead.pk)) for lead in probe}
    python_s = (time.perf_counter() - start) / max(len(probe), 1) * total
    stored_scores = dict(Lead.objects.filter(pk__in=list(python)).values_list("pk", "learned_score"))
    worst = max((abs(stored_scores[pk] - p) for pk, p in python.items()), default=0.0)
    say(
        f"Python application of the same model: {python_s:.1f} s extrapolated to {total}; max |SQL - Python| = {worst:.2e}"
    )
    return {
        "bench": "learned_apply",
        "vendor": connection.vendor,
        "leads": total,
        "weights": len(model.weights),
        "rules_only_rescore_s": round(rules_s, 3),
        "learned_update_s": round(learned_s, 3),
        "learned_update_unchanged_s": round(unchanged_s, 3),
        "blended_rescore_s": round(blend_s, 3),
        "blended_over_rules_only": round(blend_s / rules_s, 2),
        "python_extrapolated_s": round(python_s, 1),
        "max_sql_python_diff": worst,
    }


BENCHMARKS = {"learned_apply": (learned_apply_arguments, learned_apply_run)}
