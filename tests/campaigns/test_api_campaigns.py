import pytest

from campaigns.models import Campaign, CampaignKind, CampaignMember, MemberStatus
from leads.models import EngagementEvent, EngagementKind
from tests.campaigns.factories import CampaignFactory, CampaignMemberFactory
from tests.leads.factories import LeadFactory, SegmentFactory

pytestmark = pytest.mark.django_db

BASE = "/api/campaigns/"


@pytest.mark.parametrize(("who", "code"), [("marketer", 200), ("manager", 200), ("rep", 403)])
def test_who_reads_campaigns(request, api_for, who, code):
    CampaignFactory()

    assert api_for(request.getfixturevalue(who)).get(BASE).status_code == code


def test_anonymous_is_refused(api_client):
    assert api_client.get(BASE).status_code in (401, 403)


def test_the_list_has_counts_and_a_constant_query_count(api_for, marketer, django_assert_num_queries):
    api = api_for(marketer)
    CampaignMemberFactory(campaign=CampaignFactory(), status=MemberStatus.RESPONDED)
    api.get(BASE)
    with django_assert_num_queries(2) as few:  # count, page (roles are cached on the user)
        api.get(BASE)
    for _ in range(5):
        CampaignMemberFactory(campaign=CampaignFactory(target_segment=SegmentFactory()))
    with django_assert_num_queries(len(few.captured_queries)):
        response = api.get(BASE)

    rows = response.json()["results"]
    assert len(rows) == 6
    assert {(r["member_count"], r["responded_count"]) for r in rows} == {(1, 1), (1, 0)}


def test_marketing_creates_and_patches_a_campaign(api_for, marketer):
    api = api_for(marketer)

    created = api.post(BASE, {"name": "Launch", "kind": "event", "budget": "250.00"}, format="json")
    patched = api.patch(f"{BASE}{created.json()['id']}/", {"status": "active"}, format="json")

    assert created.status_code == 201 and created.json()["owner"] == "marketer"
    assert patched.status_code == 200 and patched.json()["status"] == "active"


def test_a_manager_cannot_create(api_for, manager):
    response = api_for(manager).post(BASE, {"name": "Launch", "kind": "event"}, format="json")

    assert response.status_code == 403
    assert response.json()["error"]["status"] == 403
    assert not Campaign.objects.exists()


def test_bad_input_is_a_400_naming_the_field(api_for, marketer):
    CampaignFactory(name="Taken")
    api = api_for(marketer)

    duplicate = api.post(BASE, {"name": "taken", "kind": "event"}, format="json")
    bad_kind = api.post(BASE, {"name": "New", "kind": "smoke-signals"}, format="json")
    bad_segment = api.post(BASE, {"name": "New", "kind": "event", "target_segment_id": 987654}, format="json")

    assert duplicate.status_code == 400 and "name" in duplicate.json()["error"]["fields"]
    assert bad_kind.status_code == 400 and "kind" in bad_kind.json()["error"]["fields"]
    assert bad_segment.status_code == 400 and "target_segment_id" in bad_segment.json()["error"]["fields"]


def test_members_from_a_segment_then_listed_with_a_constant_query_count(api_for, marketer, django_assert_num_queries):
    api = api_for(marketer)
    segment = SegmentFactory(definition={"field": "industry", "op": "eq", "value": "software"})
    campaign = CampaignFactory()
    LeadFactory.create_batch(3, industry="software")

    added = api.post(f"{BASE}{campaign.pk}/members/", {"segment_id": segment.pk}, format="json")
    with django_assert_num_queries(3) as few:  # campaign, count, page (members + leads joined)
        api.get(f"{BASE}{campaign.pk}/members/")
    CampaignMemberFactory.create_batch(6, campaign=campaign)
    with django_assert_num_queries(len(few.captured_queries)):
        listed = api.get(f"{BASE}{campaign.pk}/members/")

    assert added.status_code == 201 and added.json() == {"added": 3, "skipped": 0, "skipped_by_reason": {}}
    assert listed.json()["count"] == 9


def test_adding_a_member_twice_is_a_400(api_for, marketer):
    member = CampaignMemberFactory()

    response = api_for(marketer).post(
        f"{BASE}{member.campaign_id}/members/", {"lead_id": member.lead_id}, format="json"
    )

    assert response.status_code == 400
    assert "already a member" in response.json()["error"]["fields"]["lead_id"][0]


def test_members_body_must_choose_one_way(api_for, marketer):
    campaign = CampaignFactory()

    response = api_for(marketer).post(f"{BASE}{campaign.pk}/members/", {}, format="json")

    assert response.status_code == 400 and "lead_id" in response.json()["error"]["fields"]


def test_a_response_records_an_engagement_event(api_for, marketer):
    member = CampaignMemberFactory(campaign=CampaignFactory(kind=CampaignKind.WEBINAR))

    response = api_for(marketer).post(
        f"{BASE}{member.campaign_id}/responses/", {"lead_id": member.lead_id}, format="json"
    )

    assert response.status_code == 200 and response.json()["status"] == "responded"
    assert EngagementEvent.objects.get(lead_id=member.lead_id).kind == EngagementKind.WEBINAR


def test_member_status_moves_forward_through_the_api(api_for, marketer):
    member = CampaignMemberFactory(status=MemberStatus.SENT)
    api = api_for(marketer)

    back = api.post(f"{BASE}{member.campaign_id}/members/{member.pk}/status/", {"status": "targeted"}, format="json")
    forward = api.post(
        f"{BASE}{member.campaign_id}/members/{member.pk}/status/", {"status": "converted"}, format="json"
    )

    assert back.status_code == 400 and "status" in back.json()["error"]["fields"]
    assert forward.status_code == 200
    assert CampaignMember.objects.get(pk=member.pk).status == MemberStatus.CONVERTED


def test_survey_members_carry_their_personal_link(api_for, marketer):
    from campaigns.services.feedback import survey_member_for_token

    member = CampaignMemberFactory(
        campaign=CampaignFactory(kind=CampaignKind.SURVEY), lead=LeadFactory(stage="customer")
    )

    row = api_for(marketer).get(f"{BASE}{member.campaign_id}/members/").json()["results"][0]

    token = row["survey_link"].rstrip("/").rsplit("/", 1)[1]
    assert row["survey_link"].startswith("http://testserver/s/")
    assert survey_member_for_token(token) == member


@pytest.mark.parametrize(("model", "credit"), [("first", 0.0), ("last", 1.0), ("even", 0.5)])
def test_influence_on_member_outcomes(api_for, marketer, model, credit):
    import datetime

    from django.utils import timezone

    from tests.leads.factories import LeadTransitionFactory

    now = timezone.now()
    earlier, campaign = CampaignFactory(), CampaignFactory()
    lead = LeadFactory()
    CampaignMemberFactory(campaign=earlier, lead=lead, added_at=now - datetime.timedelta(days=9))
    CampaignMemberFactory(campaign=campaign, lead=lead, added_at=now - datetime.timedelta(days=5))
    LeadTransitionFactory(lead=lead, from_stage="opportunity", to_stage="customer", reason="won", at=now)

    body = api_for(marketer).get(f"{BASE}{campaign.pk}/influence/", {"model": model}).json()

    assert body["won_outcomes"] == 1 and body["won_credit"] == credit


def test_influence_with_an_unknown_model_is_a_400(api_for, marketer):
    campaign = CampaignFactory()

    response = api_for(marketer).get(f"{BASE}{campaign.pk}/influence/", {"model": "linear"})

    assert response.status_code == 400 and "model" in response.json()["error"]["fields"]


def test_influence_with_no_outcomes_is_all_zero(api_for, marketer):
    campaign = CampaignFactory()
    CampaignMemberFactory(campaign=campaign)

    body = api_for(marketer).get(f"{BASE}{campaign.pk}/influence/").json()

    assert body == {
        "model": "even",
        "won_outcomes": 0,
        "won_touched": 0,
        "won_credit": 0.0,
        "lost_outcomes": 0,
        "lost_credit": 0.0,
        "untouched": 0,
    }


def test_mark_sent_through_the_api(api_for, marketer, manager):
    member = CampaignMemberFactory()

    refused = api_for(manager).post(f"{BASE}{member.campaign_id}/members/sent/")
    done = api_for(marketer).post(f"{BASE}{member.campaign_id}/members/sent/")

    assert refused.status_code == 403
    assert done.status_code == 200 and done.json() == {"changed": 1}
    assert CampaignMember.objects.get(pk=member.pk).status == MemberStatus.SENT


def test_a_segment_add_answers_what_it_skipped_and_why(api_for, marketer):
    segment = SegmentFactory(definition={"field": "industry", "op": "eq", "value": "software"})
    campaign = CampaignFactory(kind=CampaignKind.WEBINAR)
    LeadFactory(industry="software")
    LeadFactory(industry="software", do_not_contact=True)
    CampaignMemberFactory(campaign=campaign, lead=LeadFactory(industry="software"))

    response = api_for(marketer).post(f"{BASE}{campaign.pk}/members/", {"segment_id": segment.pk}, format="json")

    assert response.status_code == 201
    assert response.json() == {
        "added": 1,
        "skipped": 2,
        "skipped_by_reason": {"already_member": 1, "do_not_contact": 1},
    }
