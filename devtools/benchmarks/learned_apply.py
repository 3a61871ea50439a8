"""``python manage.py bench learned_apply``: applying the learned model set-based.

Data: the scoring benchmark's bench leads (``devtools.benchmarks.leads.ensure_leads``) and its demo
rules. A model is trained on a sample of them, labelled with the real outcome of the Bank
Marketing row each generated lead was made from, and activated: use a bench database.

Measured in the same run: the rules-only re-score (the scoring benchmark's subject), Baton's
blended re-score (rules and the learned model in one statement), the baseline the goal is
stated against (the same rules and the same learned weights as one hand-written SQL
``UPDATE``, PostgreSQL only), the learned-only ``UPDATE`` used when the policy is rules only,
and the Python application of the same model on a sample, extrapolated.
"""

from __future__ import annotations

import os
import re
import time

BENCH_RE = re.compile(r"^bench(\d+)\.")


def learned_apply_arguments(parser) -> None:
    parser.add_argument("--leads", type=int, default=100_000, help="bench leads (default 100000)")
    parser.add_argument("--train", type=int, default=20_000, help="leads the model is trained on")
    parser.add_argument("--sample", type=int, default=5_000, help="leads for the Python baseline")
    parser.add_argument("--fresh", action="store_true", help="rebuild the bench data")


def _literal(value) -> str:
    """A SQL string literal (``%`` doubled: the statement runs with pyformat parameters)."""
    return "'" + str(value).replace("'", "''").replace("%", "%%") + "'"


def _chain_sql(branches, rest: str, value_of, build, *, ordered: bool) -> str:
    """``CASE WHEN <condition> THEN <build(token)> ... ELSE <build(rest)> END``, leaving out a
    branch whose value the rows would get without it (the next bin, or the ELSE)."""
    rest_value = value_of(rest)
    if ordered:
        (missing, missing_sql), bins = branches[0], branches[1:]
        kept, following = [], rest_value
        for token, condition in reversed(bins):
            if value_of(token) != following:
                kept.append((token, condition))
                following = value_of(token)
        kept.reverse()
        if value_of(missing) != rest_value:  # NULL passes every bound: it falls to the ELSE
            kept.insert(0, (missing, missing_sql))
    else:
        kept = [(token, condition) for token, condition in branches if value_of(token) != rest_value]
    if not kept:
        return build(rest)
    whens = " ".join(f"WHEN {condition} THEN {build(token)}" for token, condition in kept)
    return f"(CASE {whens} ELSE {build(rest)} END)"


def _branches_sql(spec, x: str | None, *, pair: bool = False):
    """(branches, rest, ordered) of a spec over the lead ``l`` (``x``: its number, if numeric)."""
    from leads.learning.features import ATTR_PREFIX
    from leads.learning.learner import MISSING, NUMERIC, OTHER

    if spec.kind == NUMERIC:
        edges = spec.pair_edges if pair else spec.edges
        tokens = spec.tokens(pair=pair)[:-1]
        branches = [(MISSING, f"{x} IS NULL")] + [
            (t, f"{x} < {float(e)!r}") for t, e in zip(tokens, edges, strict=False)
        ]
        return branches, tokens[-1], True
    if spec.name.startswith(ATTR_PREFIX):
        text = f"l.custom_attributes ->> {_literal(spec.name[len(ATTR_PREFIX) :])}"
        branches = [(MISSING, f"COALESCE({text}, '') = ''")] + [(v, f"{text} = {_literal(v)}") for v in spec.values]
        return branches, OTHER, False
    column = f"l.{spec.name}"
    if spec.name == "email_opt_in":
        branches = [(v, f"{'' if v == 'true' else 'NOT '}{column}") for v in spec.values if v in ("true", "false")]
        return [(MISSING, f"{column} IS NULL"), *branches], OTHER, False
    branches = [(MISSING, f"({column} IS NULL OR {column} = '')")] + [
        (v, f"{column} = {_literal(v)}") for v in spec.values
    ]
    return branches, OTHER, False


def _number_sql(spec) -> str:
    from leads.learning.features import ATTR_PREFIX, EVENTS_PREFIX

    if spec.name.startswith(EVENTS_PREFIX):
        return f"COUNT(*) FILTER (WHERE kind = {_literal(spec.name[len(EVENTS_PREFIX) :])})"
    if spec.name.startswith(ATTR_PREFIX):
        key = _literal(spec.name[len(ATTR_PREFIX) :])
        return (
            f"(CASE WHEN jsonb_typeof(l.custom_attributes -> {key}) = 'number' "
            f"THEN (l.custom_attributes ->> {key})::double precision END)"
        )
    return f"l.{spec.name}"


def _trend_sql(spec, weights: dict[str, float], x: str) -> str:
    from leads.learning.learner import TREND

    slope = weights.get(TREND)
    if not slope or not spec.has_trend:
        return ""
    return (
        f"(CASE WHEN {x} IS NULL THEN 0.0 ELSE {slope / spec.scale!r} * "
        f"(least(greatest({x}, {spec.low!r}), {spec.high!r}) - {spec.center!r}) END)"
    )


def hand_written_learned_sql(model) -> dict:
    """The learned model's logit written as a person would in PostgreSQL, from its weights
    tables: one CASE per feature over ``l`` (the lead), one nested CASE per two-field table,
    and the event-count terms over the events grouped by lead (``COUNT(*) FILTER``). For
    ``devtools.benchmarks.leads._sql_update``."""
    from leads.learning.apply import model_additive, model_weights
    from leads.learning.features import EVENTS_PREFIX
    from leads.learning.learner import NUMERIC

    weights = model_weights(model)
    additive = model_additive(model)
    specs = {spec.name: spec for spec in additive.specs}
    lead_terms, event_terms = [repr(float(model.intercept))], []
    for spec in additive.specs:
        w = weights.get(spec.name, {})
        x = _number_sql(spec) if spec.kind == NUMERIC else None
        terms = []
        if (spec.kind != NUMERIC or spec.binned) and any(w.get(t) for t in spec.tokens()):
            branches, rest, ordered = _branches_sql(spec, x)
            terms.append(_chain_sql(branches, rest, w.get, lambda t, w=w: repr(w.get(t, 0.0)), ordered=ordered))
        if x is not None and _trend_sql(spec, w, x):
            terms.append(_trend_sql(spec, w, x))
        (event_terms if spec.name.startswith(EVENTS_PREFIX) else lead_terms).extend(terms)
    for pair in additive.pairs:
        if not any(pair.weights.values()):
            continue
        first, second = specs[pair.first], specs[pair.second]
        outer = _branches_sql(first, _number_sql(first) if first.kind == NUMERIC else None, pair=True)
        inner = _branches_sql(second, _number_sql(second) if second.kind == NUMERIC else None, pair=True)
        second_tokens = second.tokens(pair=True)

        def row(a, pair=pair, second_tokens=second_tokens):
            return tuple(pair.weights.get((a, b), 0.0) for b in second_tokens)

        def inner_sql(a, pair=pair, inner=inner):
            def weight(b):
                return pair.weights.get((a, b), 0.0)

            return _chain_sql(inner[0], inner[1], weight, lambda b: repr(weight(b)), ordered=inner[2])

        sql = _chain_sql(outer[0], outer[1], row, inner_sql, ordered=outer[2])
        (event_terms if pair.first.startswith(EVENTS_PREFIX) else lead_terms).append(sql)
    event_specs = [spec for spec in additive.specs if spec.name.startswith(EVENTS_PREFIX)]
    zero_row = {spec.name: 0 for spec in event_specs}
    zero = sum(
        weight
        for name, _, weight in additive.contributions(zero_row)
        if all(part.startswith(EVENTS_PREFIX) for part in name.split(" x "))
    )
    return {
        "lead_sql": "(" + " + ".join(lead_terms) + ")",
        "events_sql": "(" + " + ".join(event_terms) + ")" if event_terms else None,
        "events_zero": float(zero),
    }


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def learned_apply_run(options, stdout) -> dict:
    import numpy as np
    from django.db import connection, transaction
    from django.db.models import Max, Sum
    from django.utils import timezone

    from devtools.benchmarks.leads import BENCH_PREFIX, _sql_update, _vacuum, ensure_leads, install_demo_rules
    from devtools.demo.leads import lead_values
    from leads.learning.apply import learned_scores_apply, model_additive, python_probability
    from leads.learning.boosting import train_ebm
    from leads.learning.features import EVENTS_PREFIX, LEAD_FIELDS, event_counts_for, feature_kinds, lead_row
    from leads.learning.models import LearnedModel, LearnedModelStatus, LearnedPairWeight, LearnedWeight
    from leads.models import Lead, ScoringPolicy
    from leads.scoring import leads_rescore_all

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
    trained, train_s = _timed(
        lambda: train_ebm(
            rows,
            y,
            names,
            kinds=feature_kinds(rows, names),
            exact=True,
            group=lambda name: "events" if name.startswith(EVENTS_PREFIX) else "lead",
        )
    )
    model = trained.model
    cells = sum(len(pair.weights) for pair in model.pairs)
    say(
        f"Trained on {len(rows)} leads ({int(y.sum())} positive) in {train_s:.1f} s: {len(model.weights)} weights, "
        f"{len(model.pairs)} two-field tables ({cells} cells)"
    )
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
        LearnedPairWeight.objects.bulk_create(LearnedPairWeight(model=stored, **r) for r in model.pair_rows())

    policy = ScoringPolicy.current()
    saved_mode, saved_weight = policy.learned_mode, policy.learned_weight
    blend_weight = 20.0
    sql_s = sql_same = sql_worst = None
    try:
        ScoringPolicy.objects.filter(pk=policy.pk).update(learned_mode="off")
        leads_rescore_all(now=now, qualify=False)  # warm-up
        _vacuum()
        _, rules_s = _timed(lambda: leads_rescore_all(now=now, qualify=False))
        say(f"Rules-only re-score of {total} leads: {rules_s:.2f} s")

        ScoringPolicy.objects.filter(pk=policy.pk).update(learned_mode="blend", learned_weight=blend_weight)
        leads_rescore_all(now=now, qualify=False)  # warm-up
        _vacuum()
        _, blend_s = _timed(lambda: leads_rescore_all(now=now, qualify=False))
        baton_sum = Lead.objects.aggregate(s=Sum("score"))["s"] or 0.0
        baton_learned = dict(Lead.objects.order_by("?").values_list("pk", "learned_score")[: options["sample"]])
        say(
            f"Baton blended re-score (rules + learned model, one statement): {blend_s:.2f} s "
            f"= {blend_s / rules_s:.2f} x rules only"
        )

        if connection.vendor == "postgresql":
            learned_sql = hand_written_learned_sql(stored)
            sql, params = _sql_update(now, learned={**learned_sql, "weight": blend_weight})
            with connection.cursor() as cursor:
                cursor.execute(sql, params)  # warm-up
                _vacuum()
                _, sql_s = _timed(lambda: cursor.execute(sql, params))
            sql_sum = Lead.objects.aggregate(s=Sum("score"))["s"] or 0.0
            sql_same = abs(sql_sum - baton_sum) <= 1e-6 * max(1.0, abs(baton_sum))
            sql_learned = dict(Lead.objects.filter(pk__in=list(baton_learned)).values_list("pk", "learned_score"))
            sql_worst = max((abs(sql_learned[pk] - p) for pk, p in baton_learned.items()), default=0.0)
            say(
                f"Hand-written SQL UPDATE (same rules + same learned weights): {sql_s:.2f} s; same total score as "
                f"Baton: {sql_same}; max |learned_score difference| on {len(baton_learned)} leads: {sql_worst:.1e}"
            )
            say(f"Baton blended / hand-written SQL: {blend_s / sql_s:.2f} (goal <= 1.5)")
        else:
            say("Hand-written SQL UPDATE: skipped (PostgreSQL only)")

        # Rules-only policy: activation writes learned_score alone (for the marketer's page).
        Lead.objects.update(learned_score=None)
        _vacuum()
        written, learned_s = _timed(learned_scores_apply)
        say(
            f"Learned-only UPDATE (rules-only policy), every lead rewritten ({written}): {learned_s:.2f} s "
            f"({total / learned_s:.0f} leads/s)"
        )
    finally:
        ScoringPolicy.objects.filter(pk=policy.pk).update(learned_mode=saved_mode, learned_weight=saved_weight)

    probe = list(Lead.objects.order_by("?")[: options["sample"]])
    logistic = model_additive(stored)
    start = time.perf_counter()
    probe_counts = event_counts_for([lead.pk for lead in probe])
    python = {lead.pk: python_probability(logistic, lead, probe_counts.get(lead.pk)) for lead in probe}
    python_s = (time.perf_counter() - start) / max(len(probe), 1) * total
    stored_scores = dict(Lead.objects.filter(pk__in=list(python)).values_list("pk", "learned_score"))
    worst = max((abs(stored_scores[pk] - p) for pk, p in python.items()), default=0.0)
    say(
        f"Python application of the same model: {python_s:.1f} s extrapolated to {total}; max |SQL - Python| = {worst:.2e}"
    )
    ratio = round(blend_s / sql_s, 2) if sql_s else None
    load = os.getloadavg()
    say(f"Load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return {
        "bench": "learned_apply",
        "vendor": connection.vendor,
        "leads": total,
        "weights": len(model.weights),
        "pair_tables": len(model.pairs),
        "rules_only_rescore_s": round(rules_s, 3),
        # Six decimals: the ratio below must be recomputable from these two at any scale (a
        # 400-lead run takes ~0.03 s, where milliseconds would shift the ratio by ~3%).
        "blended_rescore_s": round(blend_s, 6),
        "hand_written_sql_s": round(sql_s, 6) if sql_s is not None else None,
        "ratio_vs_sql": ratio,
        "goal_ratio": 1.5,
        "sql_same_total_score": sql_same,
        "sql_max_learned_diff": sql_worst,
        "blended_over_rules_only": round(blend_s / rules_s, 2),
        "learned_only_update_s": round(learned_s, 3),
        "load_avg": [round(x, 2) for x in load],
        "python_extrapolated_s": round(python_s, 1),
        "max_sql_python_diff": worst,
    }


BENCHMARKS = {"learned_apply": (learned_apply_arguments, learned_apply_run)}
