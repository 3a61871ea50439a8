"""A withdrawal of consent takes effect at once: call lists (page and API), the hand-off,
campaign sends, the lead page, and learned scoring (profiling)."""

import datetime

import pytest

from campaigns.models import CampaignKind, CampaignMember, MemberStatus
from campaigns.services.campaigns import campaign_member_add, campaign_members_mark_sent
from crm.models import Assignment, HandoffRefusal
from crm.services.handoff import lead_handoff
from leads.consent import consent_withdraw, consents_record, unsubscribe_token
from leads.learning.models import LearnedModel
from leads.learning.services import learned_model_train
from leads.models import ConsentRecord, Lead, LearnedScoreMode, LifecycleStage, ScoringPolicy
from leads.scoring import lead_score, leads_rescore_all
from tests.campaigns.factories import CampaignFactory, CampaignMemberFactory
from tests.crm.factories import QueueMembershipFactory, SalesQueueFactory
from tests.crm.sales_fixtures import assigned_lead
from tests.leads.factories import LeadFactory
from tests.learning.factories import outcome_history
from tests.sent_tasks import task_sends

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_broker():
    with task_sends("leads.tasks.score_lead_task"):  # sends of every task are dropped
        yield


def test_a_rep_withdrawing_calls_on_the_lead_page_takes_it_off_their_call_list_at_once(client_for, rep):
    lead = assigned_lead(rep, timezone="UTC", email="ann@acme.example").lead
    client = client_for(rep)
    assert lead.full_name in client.get("/calls/").content.decode()
    assert [r["lead"] for r in client.get("/api/call-list/").json()["results"]] == [lead.pk]

    response = client.post(
        f"/leads/{lead.pk}/consents/withdraw/", {"purpose": "calls", "next": f"/calls/leads/{lead.pk}/"}
    )
    assert response.status_code == 302

    page = client.get("/calls/").content.decode()
    assert lead.full_name not in page
    assert client.get("/api/call-list/").json()["results"] == []


def test_the_lead_page_shows_each_purposes_consent_with_source_and_evidence(client_for, rep):
    lead = assigned_lead(rep).lead
    consents_record(lead_id=lead.pk, changes=[("email_marketing", True)], source="form", evidence="Newsletter box v2")
    consent_withdraw(lead_id=lead.pk, purposes=["calls"], source="rep", actor=rep, evidence="Said no calls")

    html = client_for(rep).get(f"/calls/leads/{lead.pk}/").content.decode()

    assert 'id="h-consent"' in html
    assert "Newsletter box v2" in html and "Said no calls" in html
    assert "Withdrawn" in html and "Granted" in html and "Web form" in html
    assert "No record" in html  # profiling has none yet


def test_the_lead_page_query_count_does_not_grow_with_consent_history(client_for, rep, count_queries):
    lead = assigned_lead(rep).lead
    client = client_for(rep)
    client.get(f"/calls/leads/{lead.pk}/")
    consents_record(lead_id=lead.pk, changes=[("calls", True)], source="rep", actor=rep)
    few = count_queries(lambda: client.get(f"/calls/leads/{lead.pk}/"))
    for _ in range(4):
        consents_record(lead_id=lead.pk, changes=[("calls", True), ("profiling", True)], source="rep", actor=rep)
    assert count_queries(lambda: client.get(f"/calls/leads/{lead.pk}/")) == few


def test_an_unsubscribed_mql_is_not_handed_off(client, rep):
    queue = SalesQueueFactory(
        business_days=[0, 1, 2, 3, 4, 5, 6],
        business_hours_start=datetime.time(0, 0),
        business_hours_end=datetime.time(23, 59),
    )
    QueueMembershipFactory(queue=queue, rep=rep, capacity=5)
    lead = LeadFactory(stage=LifecycleStage.MQL)
    client.post(f"/unsubscribe/{unsubscribe_token(lead_id=lead.pk, purposes=['calls'])}/")

    assert lead_handoff(lead_id=lead.pk) is None
    assert not Assignment.objects.exists()
    assert list(HandoffRefusal.objects.filter(lead=lead).values_list("reason", flat=True)) == ["do_not_call"]


def test_an_email_withdrawal_stops_the_campaign_send_and_new_adds(client, marketer):
    campaign = CampaignFactory(kind=CampaignKind.EMAIL)
    stays, leaves = LeadFactory(email_opt_in=True), LeadFactory(email_opt_in=True)
    CampaignMemberFactory(campaign=campaign, lead=stays)
    gone = CampaignMemberFactory(campaign=campaign, lead=leaves)

    client.post(f"/unsubscribe/{unsubscribe_token(lead_id=leaves.pk, purposes=['email_marketing'])}/")

    assert campaign_members_mark_sent(campaign_id=campaign.pk, actor=marketer) == 1
    gone.refresh_from_db()
    assert gone.status == MemberStatus.TARGETED
    assert CampaignMember.objects.get(lead=stays).status == MemberStatus.SENT
    other = CampaignFactory(kind=CampaignKind.EMAIL)
    with pytest.raises(Exception, match="has not opted in"):
        campaign_member_add(campaign_id=other.pk, lead_id=leaves.pk, actor=marketer)


# --- profiling ---------------------------------------------------------------------------------


@pytest.fixture
def blended_model():
    outcome_history(300, seed=7, signal=True)
    model = learned_model_train(actor=None)
    LearnedModel.objects.filter(pk=model.pk).update(is_active=True)
    policy = ScoringPolicy.current()
    ScoringPolicy.objects.filter(pk=policy.pk).update(learned_mode=LearnedScoreMode.BLEND, learned_weight=40)
    return model


def test_withdrawing_profiling_stops_learned_scoring_for_that_lead(blended_model):
    lead = LeadFactory(industry="software", stage=LifecycleStage.SAL)
    kept = LeadFactory(industry="software", stage=LifecycleStage.SAL)
    for one in (lead, kept):
        lead_score(lead_id=one.pk)
    lead.refresh_from_db()
    assert lead.learned_score is not None and lead.score > lead.fit_score + lead.engagement_score

    consent_withdraw(lead_id=lead.pk, purposes=["profiling"], source="rep")

    lead.refresh_from_db()
    assert lead.do_not_profile is True
    assert lead.learned_score is None
    assert lead.score == pytest.approx(lead.fit_score + lead.engagement_score)
    assert all(entry["kind"] != "learned" for entry in lead.score_breakdown)

    leads_rescore_all(qualify=False)
    from leads.learning.apply import learned_scores_apply

    learned_scores_apply()
    learned_scores_apply(scope=None)
    lead.refresh_from_db()
    kept.refresh_from_db()
    assert lead.learned_score is None and kept.learned_score is not None
    from leads import api as leads_api

    assert leads_api.learned_reasons_for_lead(lead) == []


def test_the_rules_only_learned_apply_skips_a_lead_without_profiling_consent(blended_model):
    ScoringPolicy.objects.update(learned_mode=LearnedScoreMode.OFF)
    from leads.learning.apply import learned_scores_apply

    lead = LeadFactory(industry="software")
    consent_withdraw(lead_id=lead.pk, purposes=["profiling"], source="api")
    learned_scores_apply()
    learned_scores_apply(scope=None)
    from django.db.models import Q

    learned_scores_apply(scope=Q(pk=lead.pk))
    assert Lead.objects.get(pk=lead.pk).learned_score is None


def test_training_does_not_learn_from_a_lead_that_withdrew_profiling():
    leads = outcome_history(300, seed=7, signal=True)
    first = learned_model_train(actor=None)
    for lead in leads[:100]:
        ConsentRecord.objects.create(lead=lead, purpose="profiling", granted=False, source="api")
    Lead.objects.filter(pk__in=[lead.pk for lead in leads[:100]]).update(do_not_profile=True)
    second = learned_model_train(actor=None)
    assert second.positives + second.negatives == first.positives + first.negatives - 100


def test_the_contact_page_shows_the_persons_consent(client_for, rep):
    from tests.crm.factories import AccountFactory, ContactFactory

    lead = assigned_lead(rep).lead
    contact = ContactFactory(account=AccountFactory(owner=rep), lead=lead)
    consent_withdraw(lead_id=lead.pk, purposes=["email_marketing"], source="unsubscribe", evidence="Signed link")

    html = client_for(rep).get(f"/contacts/{contact.pk}/").content.decode()

    assert 'id="h-consent"' in html and "Unsubscribe link" in html and "Withdrawn" in html
    assert f'action="/leads/{lead.pk}/consents/withdraw/"' in html
