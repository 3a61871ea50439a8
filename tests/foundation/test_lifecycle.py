import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from leads.lifecycle import ALLOWED_TRANSITIONS, REASON_REQUIRED, IllegalTransition, lead_transition
from leads.models import LeadTransition, LifecycleStage
from tests.leads.factories import LeadFactory

S = LifecycleStage
LEGAL = [(a, b) for a, targets in ALLOWED_TRANSITIONS.items() for b in sorted(targets)]
ILLEGAL_SAMPLE = [
    (S.NEW, S.CUSTOMER),
    (S.NEW, S.HANDED_OFF),
    (S.ENGAGED, S.SAL),
    (S.MQL, S.OPPORTUNITY),
    (S.HANDED_OFF, S.CUSTOMER),
    (S.HANDED_OFF, S.DISQUALIFIED),
    (S.SAL, S.MQL),
    (S.CUSTOMER, S.MQL),
    (S.CUSTOMER, S.RECYCLED),
    (S.DISQUALIFIED, S.MQL),
    (S.RECYCLED, S.HANDED_OFF),
    (S.OPPORTUNITY, S.SAL),
]


def test_design_lifecycle_is_what_the_table_allows():
    assert S.HANDED_OFF in ALLOWED_TRANSITIONS[S.MQL]
    assert S.SAL in ALLOWED_TRANSITIONS[S.HANDED_OFF]
    assert S.RECYCLED in ALLOWED_TRANSITIONS[S.HANDED_OFF]
    assert S.CUSTOMER in ALLOWED_TRANSITIONS[S.OPPORTUNITY]
    assert S.RECYCLED in ALLOWED_TRANSITIONS[S.OPPORTUNITY]
    assert all(S.DISQUALIFIED in ALLOWED_TRANSITIONS[s] for s in (S.NEW, S.ENGAGED, S.MQL, S.RECYCLED))


@pytest.mark.django_db
@pytest.mark.parametrize(("from_stage", "to_stage"), LEGAL)
def test_every_legal_move_changes_the_stage_and_writes_history(from_stage, to_stage, manager):
    lead = LeadFactory(stage=from_stage)
    reason = "because" if to_stage in REASON_REQUIRED else ""

    moved = lead_transition(lead_id=lead.pk, to_stage=to_stage, actor=manager, reason=reason)

    lead.refresh_from_db()
    assert moved.stage == lead.stage == to_stage
    history = LeadTransition.objects.get(lead=lead)
    assert (history.from_stage, history.to_stage, history.actor, history.reason) == (
        from_stage,
        to_stage,
        manager,
        reason,
    )
    assert lead.stage_changed_at == history.at


@pytest.mark.django_db
@pytest.mark.parametrize(("from_stage", "to_stage"), ILLEGAL_SAMPLE)
def test_an_illegal_move_is_refused_with_a_clear_message_and_changes_nothing(from_stage, to_stage):
    lead = LeadFactory(stage=from_stage)

    with pytest.raises(IllegalTransition) as excinfo:
        lead_transition(lead_id=lead.pk, to_stage=to_stage, reason="x")

    assert S(from_stage).label in str(excinfo.value) and S(to_stage).label in str(excinfo.value)
    lead.refresh_from_db()
    assert lead.stage == from_stage
    assert not LeadTransition.objects.filter(lead=lead).exists()


@pytest.mark.django_db
def test_recycling_without_a_reason_is_refused():
    lead = LeadFactory(stage=S.HANDED_OFF)

    with pytest.raises(ValidationError) as excinfo:
        lead_transition(lead_id=lead.pk, to_stage=S.RECYCLED)

    assert "reason" in excinfo.value.message_dict


@pytest.mark.django_db
def test_an_unknown_stage_is_refused_naming_the_field():
    lead = LeadFactory()

    with pytest.raises(ValidationError) as excinfo:
        lead_transition(lead_id=lead.pk, to_stage="promoted")

    assert "to_stage" in excinfo.value.message_dict


@pytest.mark.django_db
def test_qualifying_stamps_qualified_at():
    lead = LeadFactory(stage=S.ENGAGED)

    lead_transition(lead_id=lead.pk, to_stage=S.MQL)

    lead.refresh_from_db()
    assert lead.qualified_at is not None


@pytest.mark.django_db
def test_a_move_based_on_a_stale_read_is_refused():
    lead = LeadFactory(stage=S.ENGAGED)
    lead_transition(lead_id=lead.pk, to_stage=S.MQL)

    with pytest.raises(IllegalTransition, match="changed by someone else"):
        lead_transition(lead_id=lead.pk, to_stage=S.DISQUALIFIED, reason="bad data", expected_from=S.ENGAGED)


# --- the set-based move (batch work such as the hand-off) -------------------------------------


@pytest.mark.django_db
def test_a_batch_move_moves_only_leads_still_in_the_from_stage_and_writes_history(rep, other_rep):
    from leads.lifecycle import leads_transition

    ready = [LeadFactory(stage=S.MQL) for _ in range(3)]
    gone = LeadFactory(stage=S.ENGAGED)
    at = timezone.now() - datetime.timedelta(minutes=5)
    owners = {ready[0].pk: rep.pk, ready[1].pk: other_rep.pk, ready[2].pk: rep.pk, gone.pk: rep.pk}

    moved = leads_transition(
        moves={lead_id: {"owner_id": owner} for lead_id, owner in owners.items()},
        from_stage=S.MQL,
        to_stage=S.HANDED_OFF,
        reason="handed_off",
        at=at,
    )

    assert moved == sorted(lead.pk for lead in ready)
    for lead in ready:
        lead.refresh_from_db()
        assert (lead.stage, lead.stage_changed_at, lead.owner_id) == (S.HANDED_OFF, at, owners[lead.pk])
        transition = LeadTransition.objects.get(lead=lead)
        assert (transition.from_stage, transition.to_stage, transition.reason, transition.at) == (
            S.MQL,
            S.HANDED_OFF,
            "handed_off",
            at,
        )
    gone.refresh_from_db()
    assert (gone.stage, gone.owner_id) == (S.ENGAGED, None)
    assert not LeadTransition.objects.filter(lead=gone).exists()


@pytest.mark.django_db
def test_a_batch_move_is_a_constant_number_of_statements(count_queries):
    from leads.lifecycle import leads_transition

    def move(n):
        ids = [LeadFactory(stage=S.MQL).pk for _ in range(n)]
        return count_queries(
            lambda: leads_transition(
                moves={lead_id: {} for lead_id in ids}, from_stage=S.MQL, to_stage=S.HANDED_OFF, reason="handed_off"
            )
        )

    assert move(2) == move(25)


@pytest.mark.django_db
def test_a_batch_move_refuses_an_illegal_move_or_a_missing_reason_and_changes_nothing():
    from leads.lifecycle import leads_transition

    lead = LeadFactory(stage=S.MQL)
    with pytest.raises(IllegalTransition):
        leads_transition(moves={lead.pk: {}}, from_stage=S.MQL, to_stage=S.CUSTOMER)
    with pytest.raises(ValidationError) as excinfo:
        leads_transition(moves={lead.pk: {}}, from_stage=S.MQL, to_stage=S.DISQUALIFIED)
    assert "reason" in excinfo.value.message_dict
    lead.refresh_from_db()
    assert lead.stage == S.MQL
    assert not LeadTransition.objects.filter(lead=lead).exists()
