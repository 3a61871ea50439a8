"""Sales outcomes travel as typed fields on LeadTransition (``outcome``, ``outcome_reason``):
the leads services write them, the old reason codes are migrated into them, and every reader
(scoring, learning, campaigns, reports) reads them, never the text of ``reason``."""

import datetime
import importlib

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from campaigns.selectors import lead_outcome_deals, outcome_totals
from leads.api import (
    LeadOutcome,
    LeadTransition,
    LifecycleStage,
    lead_accepted_by_sales,
    lead_converted_to_opportunity,
    lead_lost,
    lead_recycled_no_contact,
    lead_rejected_by_sales,
    lead_score,
    lead_transition,
    lead_won,
)
from leads.learning.features import outcomes_in_window
from leads.models import ScoringPolicy
from tests.leads.factories import LeadFactory, LeadTransitionFactory
from tests.reports.conftest import monday, period, rows_by, run  # noqa: F401 (fixtures)

S = LifecycleStage
O = LeadOutcome  # noqa: E741
pytestmark = pytest.mark.django_db


def outcome_of(lead_id: int) -> tuple[str, str, str]:
    t = LeadTransition.objects.filter(lead_id=lead_id).latest("at", "id")
    return t.to_stage, t.outcome, t.outcome_reason


def test_the_sales_services_write_the_typed_outcome():
    accepted, rejected, no_contact, won, lost = LeadFactory.create_batch(5, stage=S.HANDED_OFF)

    lead_accepted_by_sales(lead_id=accepted.pk)
    lead_rejected_by_sales(lead_id=rejected.pk, reason="not_a_fit")
    lead_recycled_no_contact(lead_id=no_contact.pk)
    for lead in (won, lost):
        lead_accepted_by_sales(lead_id=lead.pk)
        lead_converted_to_opportunity(lead_id=lead.pk)
    lead_won(lead_id=won.pk)
    lead_lost(lead_id=lost.pk, reason="price")

    assert outcome_of(accepted.pk) == (S.SAL, O.ACCEPTED, "")
    assert outcome_of(rejected.pk) == (S.RECYCLED, O.REJECTED, "not_a_fit")
    assert outcome_of(no_contact.pk) == (S.RECYCLED, O.NO_CONTACT, "")
    assert outcome_of(won.pk) == (S.CUSTOMER, O.WON, "")
    assert outcome_of(lost.pk) == (S.RECYCLED, O.LOST, "price")
    converted = LeadTransition.objects.filter(lead=won, to_stage=S.OPPORTUNITY).get()
    assert converted.outcome == ""


def test_an_outcome_that_does_not_lead_to_the_stage_is_refused_with_the_field_named():
    lead = LeadFactory(stage=S.OPPORTUNITY)

    with pytest.raises(ValidationError) as refused:
        lead_transition(lead_id=lead.pk, to_stage=S.RECYCLED, reason="lost:price", outcome=O.WON)

    assert "outcome" in refused.value.message_dict
    assert not LeadTransition.objects.filter(lead=lead).exists()


def test_an_outcome_reason_without_a_rejected_or_lost_outcome_is_refused():
    lead = LeadFactory(stage=S.OPPORTUNITY)

    with pytest.raises(ValidationError) as refused:
        lead_transition(lead_id=lead.pk, to_stage=S.CUSTOMER, outcome=O.WON, outcome_reason="price")

    assert "outcome_reason" in refused.value.message_dict


def test_the_database_refuses_an_outcome_on_the_wrong_stage():
    lead = LeadFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        LeadTransition.objects.create(
            lead=lead, from_stage=S.OPPORTUNITY, to_stage=S.RECYCLED, outcome=O.WON, at=timezone.now()
        )


def test_the_migration_types_the_old_reason_codes():
    migration = importlib.import_module("leads.migrations.0014_transition_outcome")
    rows = {
        "accepted": (S.HANDED_OFF, S.SAL, "accepted"),
        "rejected": (S.HANDED_OFF, S.RECYCLED, "rejected:not_a_fit"),
        "no_contact": (S.SAL, S.RECYCLED, "no_contact"),
        "won": (S.OPPORTUNITY, S.CUSTOMER, "won"),
        "lost": (S.OPPORTUNITY, S.RECYCLED, "lost:price"),
        "marketing": (S.RECYCLED, S.DISQUALIFIED, "do_not_contact"),
        "handed_off": (S.MQL, S.HANDED_OFF, "handed_off"),
    }
    made = {
        key: LeadTransition.objects.create(
            lead=LeadFactory(), from_stage=f, to_stage=t, reason=reason, at=timezone.now()
        ).pk
        for key, (f, t, reason) in rows.items()
    }

    with connection.schema_editor() as editor:
        migration.outcomes_from_reasons(django_apps, editor)

    typed = {
        key: tuple(LeadTransition.objects.filter(pk=pk).values_list("outcome", "outcome_reason").get())
        for key, pk in made.items()
    }
    assert typed == {
        "accepted": (O.ACCEPTED, ""),
        "rejected": (O.REJECTED, "not_a_fit"),
        "no_contact": (O.NO_CONTACT, ""),
        "won": (O.WON, ""),
        "lost": (O.LOST, "price"),
        "marketing": ("", ""),
        "handed_off": ("", ""),
    }


# --- readers: a reason text that looks like an outcome is not one; a typed outcome counts
#     whatever its reason text says --------------------------------------------------------


def recycle(lead, *, reason: str, outcome: str = "", outcome_reason: str = "", at=None, from_stage=S.SAL):
    return LeadTransitionFactory(
        lead=lead,
        from_stage=from_stage,
        to_stage=S.RECYCLED,
        reason=reason,
        outcome=outcome,
        outcome_reason=outcome_reason,
        at=at or timezone.now(),
    )


def test_the_rejection_penalty_counts_typed_rejections_only():
    ScoringPolicy.objects.update_or_create(pk=1, defaults={"rejection_penalty": 5, "threshold": 1000})
    typed, looks_like = LeadFactory.create_batch(2, stage=S.RECYCLED)
    recycle(typed, reason="sent back", outcome=O.REJECTED, outcome_reason="timing")
    recycle(looks_like, reason="rejected:by marketing")

    penalties = {
        lead.pk: sum(e["points"] for e in lead_score(lead_id=lead.pk).score_breakdown if e["kind"] == "penalty")
        for lead in (typed, looks_like)
    }

    assert penalties == {typed.pk: -5, looks_like.pk: 0}


def test_learning_reads_its_failures_from_the_typed_outcome():
    now = timezone.now()
    lost, lost_timing, looks_lost, no_contact, won = LeadFactory.create_batch(5)
    recycle(lost, reason="closed lost", outcome=O.LOST, outcome_reason="price", at=now)
    recycle(lost_timing, reason="closed lost", outcome=O.LOST, outcome_reason="timing", at=now)
    recycle(looks_lost, reason="lost:price", at=now)
    recycle(no_contact, reason="no answer", outcome=O.NO_CONTACT, at=now)
    LeadTransitionFactory(lead=won, from_stage=S.OPPORTUNITY, to_stage=S.CUSTOMER, outcome=O.WON, at=now)
    window = {"start": now - datetime.timedelta(days=1), "end": now + datetime.timedelta(days=1)}

    every = outcomes_in_window(negative_reasons=["lost:", "no_contact"], **window)
    price_only = outcomes_in_window(negative_reasons=["lost:price"], **window)

    assert {(o.lead_id, o.positive) for o in every} == {
        (lost.pk, False),
        (lost_timing.pk, False),
        (no_contact.pk, False),
        (won.pk, True),
    }
    assert {o.lead_id for o in price_only} == {lost.pk, won.pk}


def test_campaign_outcomes_are_the_typed_won_and_lost_moves():
    won, lost, looks_lost = LeadFactory.create_batch(3)
    LeadTransitionFactory(lead=won, from_stage=S.OPPORTUNITY, to_stage=S.CUSTOMER, reason="closed", outcome=O.WON)
    recycle(lost, reason="closed", outcome=O.LOST, outcome_reason="price")
    recycle(looks_lost, reason="lost:price")

    deals = {(d.lead_id, d.won) for d in lead_outcome_deals()}

    assert deals == {(won.pk, True), (lost.pk, False)}
    assert outcome_totals() == (2, 1)


def test_the_calibration_report_counts_typed_outcomes(monday, period):  # noqa: F811
    rejected, looks_rejected = LeadFactory(score=90), LeadFactory(score=10)
    for lead in (rejected, looks_rejected):
        LeadTransitionFactory(lead=lead, from_stage=S.MQL, to_stage=S.HANDED_OFF, at=monday)
    recycle(rejected, reason="sent back", outcome=O.REJECTED, outcome_reason="x", at=monday, from_stage=S.HANDED_OFF)
    recycle(looks_rejected, reason="rejected:x", at=monday, from_stage=S.HANDED_OFF)

    deciles = rows_by(run("calibration", **period).table("deciles"), "decile")

    assert [deciles[d]["rejected"] for d in ("1", "2")] == [1, 0]


def test_the_objections_report_reads_what_happened_next_from_typed_outcomes(monday, period, rep):  # noqa: F811
    from tests.crm.factories import CallFactory, ObjectionNoteFactory

    lost, looks_lost = LeadFactory.create_batch(2)
    for lead in (lost, looks_lost):
        ObjectionNoteFactory(call=CallFactory(rep=rep, lead=lead, called_at=monday), lead=lead, created_at=monday)
    later = monday + datetime.timedelta(days=1)
    recycle(lost, reason="closed lost", outcome=O.LOST, outcome_reason="price", at=later)
    recycle(looks_lost, reason="lost:price", at=later)

    price = rows_by(run("objections", **period).table("categories"), "category")["Price"]

    assert (price["won"], price["lost"], price["recycled"]) == (0, 1, 1)
