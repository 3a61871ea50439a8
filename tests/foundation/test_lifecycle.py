import pytest
from django.core.exceptions import ValidationError

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
