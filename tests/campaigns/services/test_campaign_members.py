import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from campaigns.models import CampaignKind, CampaignMember, CampaignStatus, MemberStatus
from campaigns.services.campaigns import (
    campaign_create,
    campaign_member_add,
    campaign_member_status_set,
    campaign_members_add_from_segment,
    campaign_members_mark_sent,
    campaign_update,
)
from config.roles import is_marketer
from leads.models import LifecycleStage
from tests.campaigns.factories import CampaignFactory, CampaignMemberFactory
from tests.leads.factories import LeadFactory, SegmentFactory

pytestmark = pytest.mark.django_db

SOFTWARE = {"field": "industry", "op": "eq", "value": "software"}


def software_segment():
    return SegmentFactory(name="Software", definition=SOFTWARE)


def test_members_are_added_from_the_target_segment(marketer):
    segment = software_segment()
    inside = LeadFactory.create_batch(3, industry="software")
    LeadFactory(industry="retail")
    campaign = CampaignFactory(target_segment=segment)

    added = campaign_members_add_from_segment(campaign_id=campaign.pk, actor=marketer)

    assert added.added == 3
    members = CampaignMember.objects.filter(campaign=campaign)
    assert {m.lead_id for m in members} == {lead.pk for lead in inside}
    assert {m.status for m in members} == {MemberStatus.TARGETED}


def test_the_set_based_add_takes_the_same_number_of_queries_for_any_number_of_members(
    marketer, django_assert_num_queries
):
    segment = software_segment()
    small, large = CampaignFactory(), CampaignFactory()
    LeadFactory.create_batch(2, industry="software")
    is_marketer(marketer)  # the role lookup is cached on the user; warm it so both runs compare alike
    # campaign, segment, the skip counts and the one INSERT ... SELECT inside its savepoint
    with django_assert_num_queries(6) as few:
        campaign_members_add_from_segment(campaign_id=small.pk, segment_id=segment.pk, actor=marketer)
    LeadFactory.create_batch(40, industry="software")
    with django_assert_num_queries(len(few.captured_queries)):
        added = campaign_members_add_from_segment(campaign_id=large.pk, segment_id=segment.pk, actor=marketer)

    assert added.added == 42
    assert sum("INSERT" in q["sql"] for q in few.captured_queries) == 1


def test_leads_already_in_the_campaign_are_skipped_not_an_error(marketer):
    segment = software_segment()
    campaign = CampaignFactory()
    first, second = LeadFactory.create_batch(2, industry="software")
    existing = CampaignMemberFactory(campaign=campaign, lead=first, status=MemberStatus.RESPONDED)

    added = campaign_members_add_from_segment(campaign_id=campaign.pk, segment_id=segment.pk, actor=marketer)
    again = campaign_members_add_from_segment(campaign_id=campaign.pk, segment_id=segment.pk, actor=marketer)

    assert (added.added, again.added) == (1, 0)
    assert again.skipped == {"already_member": 2}
    existing.refresh_from_db()
    assert existing.status == MemberStatus.RESPONDED
    assert CampaignMember.objects.filter(campaign=campaign, lead=second).exists()


def test_the_audience_rules_apply_to_a_segment_add(marketer):
    segment = software_segment()
    opted_in = LeadFactory(industry="software", email_opt_in=True)
    LeadFactory(industry="software", email_opt_in=False)
    LeadFactory(industry="software", email_opt_in=True, do_not_contact=True)
    customer = LeadFactory(industry="software", stage=LifecycleStage.CUSTOMER)
    email = CampaignFactory(kind=CampaignKind.EMAIL)
    loyalty = CampaignFactory(kind=CampaignKind.LOYALTY)

    campaign_members_add_from_segment(campaign_id=email.pk, segment_id=segment.pk, actor=marketer)
    campaign_members_add_from_segment(campaign_id=loyalty.pk, segment_id=segment.pk, actor=marketer)

    assert list(email.members.values_list("lead_id", flat=True)) == [opted_in.pk]
    assert list(loyalty.members.values_list("lead_id", flat=True)) == [customer.pk]


def test_a_segment_add_counts_each_kind_of_skip(marketer):
    segment = software_segment()
    email = CampaignFactory(kind=CampaignKind.EMAIL)
    LeadFactory.create_batch(2, industry="software", email_opt_in=True)  # added
    CampaignMemberFactory(campaign=email, lead=LeadFactory(industry="software", email_opt_in=True))
    # erasure leaves the lead do-not-contact; it is counted once, as erased
    LeadFactory(industry="software", erased_at=timezone.now(), do_not_contact=True, do_not_call=True)
    LeadFactory.create_batch(3, industry="software", email_opt_in=True, do_not_contact=True)
    LeadFactory.create_batch(4, industry="software", email_opt_in=False)
    LeadFactory(industry="retail")  # not in the segment: not counted at all

    result = campaign_members_add_from_segment(campaign_id=email.pk, segment_id=segment.pk, actor=marketer)

    assert result.added == 2
    assert result.skipped == {"already_member": 1, "erased": 1, "do_not_contact": 3, "no_email_opt_in": 4}
    assert result.added + result.skipped_total == 11  # the segment's count
    assert result.message() == (
        "2 members added; 9 skipped: 1 already a member, 1 erased, 3 do not contact (opted out), "
        "4 not opted in to email."
    )


def test_a_customer_campaign_counts_who_is_not_a_customer(marketer):
    segment = software_segment()
    loyalty = CampaignFactory(kind=CampaignKind.LOYALTY)
    LeadFactory(industry="software", stage=LifecycleStage.CUSTOMER)
    LeadFactory.create_batch(2, industry="software")

    result = campaign_members_add_from_segment(campaign_id=loyalty.pk, segment_id=segment.pk, actor=marketer)

    assert (result.added, result.skipped) == (1, {"not_customer": 2})
    assert result.message() == "1 member added; 2 skipped: 2 not customers."


def test_a_segment_add_without_a_segment_is_a_clear_error(marketer):
    campaign = CampaignFactory(target_segment=None)

    with pytest.raises(ValidationError) as error:
        campaign_members_add_from_segment(campaign_id=campaign.pk, actor=marketer)

    assert "segment_id" in error.value.message_dict


def test_a_closed_campaign_takes_no_members(marketer):
    campaign = CampaignFactory(status=CampaignStatus.COMPLETED)

    with pytest.raises(ValidationError) as error:
        campaign_member_add(campaign_id=campaign.pk, lead_id=LeadFactory().pk, actor=marketer)

    assert "completed" in error.value.message_dict["campaign_id"][0]


def test_adding_one_member_twice_is_a_clear_error(marketer):
    campaign = CampaignFactory(name="Spring webinar")
    lead = LeadFactory(email="ada@example.com")
    campaign_member_add(campaign_id=campaign.pk, lead_id=lead.pk, actor=marketer)

    with pytest.raises(ValidationError) as error:
        campaign_member_add(campaign_id=campaign.pk, lead_id=lead.pk, actor=marketer)

    assert error.value.message_dict == {"lead_id": ["ada@example.com is already a member of 'Spring webinar'."]}
    assert campaign.members.count() == 1


def test_a_survey_takes_customers_only(marketer):
    survey = CampaignFactory(kind=CampaignKind.SURVEY)
    prospect = LeadFactory(stage=LifecycleStage.MQL)

    with pytest.raises(ValidationError) as error:
        campaign_member_add(campaign_id=survey.pk, lead_id=prospect.pk, actor=marketer)

    assert "customers only" in error.value.message_dict["lead_id"][0]


def test_member_status_moves_forward_only(marketer):
    member = CampaignMemberFactory()

    campaign_member_status_set(member_id=member.pk, status=MemberStatus.SENT, actor=marketer)
    with pytest.raises(ValidationError) as error:
        campaign_member_status_set(member_id=member.pk, status=MemberStatus.TARGETED, actor=marketer)

    member.refresh_from_db()
    assert member.status == MemberStatus.SENT
    assert "cannot go back" in error.value.message_dict["status"][0]


def test_only_marketing_changes_campaigns(rep, manager):
    campaign = CampaignFactory()
    for user in (rep, manager):
        with pytest.raises(PermissionDenied):
            campaign_member_add(campaign_id=campaign.pk, lead_id=LeadFactory().pk, actor=user)
        with pytest.raises(PermissionDenied):
            campaign_create(actor=user, name="Nope", kind=CampaignKind.EMAIL)


def test_create_validates_dates_money_and_name(marketer):
    campaign_create(actor=marketer, name="Launch", kind=CampaignKind.EVENT, budget="1500")
    today = timezone.localdate()

    with pytest.raises(ValidationError) as dup:
        campaign_create(actor=marketer, name="launch", kind=CampaignKind.EVENT)
    with pytest.raises(ValidationError) as dates:
        campaign_create(
            actor=marketer,
            name="X",
            kind=CampaignKind.EVENT,
            starts_on=today,
            ends_on=today.replace(year=today.year - 1),
        )
    with pytest.raises(ValidationError) as money:
        campaign_create(actor=marketer, name="Y", kind=CampaignKind.EVENT, budget="-5")
    with pytest.raises(ValidationError) as kind:
        campaign_create(actor=marketer, name="Z", kind="carrier-pigeon")

    assert "already exists" in dup.value.message_dict["name"][0]
    assert "ends_on" in dates.value.message_dict
    assert "budget" in money.value.message_dict
    assert "kind" in kind.value.message_dict


def test_the_type_of_a_campaign_with_members_is_fixed(marketer):
    member = CampaignMemberFactory()

    with pytest.raises(ValidationError) as error:
        campaign_update(campaign_id=member.campaign_id, actor=marketer, kind=CampaignKind.SURVEY)

    assert "kind" in error.value.message_dict


def test_marking_sent_moves_only_targeted_members(marketer):
    campaign = CampaignFactory()
    targeted = CampaignMemberFactory.create_batch(3, campaign=campaign)
    responded = CampaignMemberFactory(campaign=campaign, status=MemberStatus.RESPONDED)

    changed = campaign_members_mark_sent(campaign_id=campaign.pk, actor=marketer)

    assert changed == 3
    assert {m.status for m in CampaignMember.objects.filter(pk__in=[m.pk for m in targeted])} == {MemberStatus.SENT}
    responded.refresh_from_db()
    assert responded.status == MemberStatus.RESPONDED


def test_a_segment_with_an_engagement_condition_adds_only_the_engaged(marketer):
    from tests.leads.factories import EngagementEventFactory

    engaged, idle = LeadFactory(), LeadFactory()
    EngagementEventFactory.create_batch(2, lead=engaged, kind="webinar")
    segment = SegmentFactory(
        definition={
            "all": [
                {"field": "engagement", "op": "at_least", "value": {"kind": "webinar", "count": 1, "days": 30}},
                {"not": {"field": "country", "op": "eq", "value": "FR"}},
            ]
        }
    )
    campaign = CampaignFactory()

    added = campaign_members_add_from_segment(campaign_id=campaign.pk, segment_id=segment.pk, actor=marketer)

    assert added.added == 1
    assert list(campaign.members.values_list("lead_id", flat=True)) == [engaged.pk]
    assert idle.campaign_memberships.count() == 0
