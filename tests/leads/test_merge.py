import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from campaigns.models import CampaignMember, CollateralShare, CustomerFeedback, MemberStatus
from crm.models import (
    Assignment,
    AssignmentStatus,
    Call,
    Contact,
    Deal,
    FollowUp,
    HandoffRefusal,
    Notification,
    ObjectionNote,
)
from leads.merging import lead_merge, survivor_proposed
from leads.models import (
    ConsentRecord,
    DuplicatePair,
    EngagementEvent,
    LatestEngagement,
    Lead,
    LeadMerge,
    LeadTransition,
    LifecycleStage,
)
from tests.campaigns.factories import (
    CampaignFactory,
    CampaignMemberFactory,
    CollateralShareFactory,
    CustomerFeedbackFactory,
)
from tests.crm.factories import (
    AssignmentFactory,
    CallFactory,
    ContactFactory,
    DealFactory,
    FollowUpFactory,
    NotificationFactory,
    ObjectionNoteFactory,
)
from tests.leads.factories import EngagementEventFactory, LeadFactory, LeadTransitionFactory

pytestmark = pytest.mark.django_db

# Every model with a foreign key to Lead, and the test below that moves a row of it. A new
# foreign key to Lead fails test_every_foreign_key_to_a_lead_is_moved until the merge moves it.
MOVED_KINDS = {
    "leads.LeadTransition",
    "leads.EngagementEvent",
    "leads.LatestEngagement",
    "leads.DuplicatePair",
    "leads.ConsentRecord",
    "leads.LeadMerge",
    "campaigns.CampaignMember",
    "campaigns.CollateralShare",
    "campaigns.CustomerFeedback",
    "crm.Assignment",
    "crm.HandoffRefusal",
    "crm.Contact",
    "crm.Call",
    "crm.FollowUp",
    "crm.ObjectionNote",
    "crm.Deal",
}


def test_every_foreign_key_to_a_lead_is_one_the_merge_moves():
    related = {
        rel.related_model._meta.label
        for rel in Lead._meta.get_fields(include_hidden=True)
        if rel.is_relation and rel.auto_created and not rel.concrete
    }
    assert related == MOVED_KINDS


def _pair(**survivor_fields):
    old = timezone.now() - datetime.timedelta(days=30)
    survivor = LeadFactory(created_at=old, phone="030 1234567", **survivor_fields)
    merged = LeadFactory(phone="0301234567", first_name="Other", title="CTO")
    return survivor, merged


def test_every_row_kind_moves_to_the_survivor(marketer, rep):
    survivor, merged = _pair()
    transition = LeadTransitionFactory(lead=merged)
    EngagementEventFactory(lead=merged, kind="webinar", occurred_at=timezone.now())
    EngagementEventFactory(lead=merged, kind="page_view", occurred_at=timezone.now())
    ConsentRecord.objects.create(lead=merged, purpose="email_marketing", granted=True, source="form")
    campaign = CampaignFactory()
    CampaignMemberFactory(lead=merged, campaign=campaign)
    CollateralShareFactory(lead=merged)
    CustomerFeedbackFactory(lead=merged)
    AssignmentFactory(lead=merged, status=AssignmentStatus.REJECTED, rejected_reason="duplicate", rep=rep)
    HandoffRefusal.objects.create(lead=merged, reason="do_not_call", at=timezone.now())
    contact = ContactFactory(lead=merged)
    call = CallFactory(lead=merged)
    FollowUpFactory(lead=merged)
    ObjectionNoteFactory(call=call, lead=merged)
    deal = DealFactory(lead=merged, account=contact.account)
    note = NotificationFactory(url=f"/calls/leads/{merged.pk}/")
    other_note = NotificationFactory(url=f"/calls/leads/{merged.pk}0/")
    older = LeadFactory()
    earlier_merge = LeadMerge.objects.create(
        survivor=merged, merged_lead_id=older.pk, merged_email="x@example.com", merged_stage="new", at=timezone.now()
    )
    DuplicatePair.objects.create(lead_a=survivor, lead_b=merged, reason="phone", found_at=timezone.now())

    merge = lead_merge(survivor_id=survivor.pk, merged_id=merged.pk, actor=marketer)

    assert not Lead.objects.filter(pk=merged.pk).exists()
    s = survivor.pk
    assert LeadTransition.objects.get(pk=transition.pk).lead_id == s
    assert EngagementEvent.objects.filter(lead_id=s).count() == 2
    assert ConsentRecord.objects.filter(lead_id=s).count() == 1
    assert CampaignMember.objects.filter(lead_id=s, campaign=campaign).count() == 1
    assert CollateralShare.objects.filter(lead_id=s).count() == 1
    assert CustomerFeedback.objects.filter(lead_id=s).count() == 1
    assert Assignment.objects.filter(lead_id=s).count() == 1
    assert HandoffRefusal.objects.filter(lead_id=s).count() == 1
    assert Contact.objects.get(pk=contact.pk).lead_id == s
    assert Call.objects.filter(lead_id=s).count() == 1
    assert FollowUp.objects.filter(lead_id=s).count() == 1
    assert ObjectionNote.objects.filter(lead_id=s).count() == 1
    assert Deal.objects.get(pk=deal.pk).lead_id == s
    assert Notification.objects.get(pk=note.pk).url == f"/calls/leads/{s}/"
    assert Notification.objects.get(pk=other_note.pk).url == f"/calls/leads/{merged.pk}0/"
    assert LeadMerge.objects.get(pk=earlier_merge.pk).survivor_id == s
    assert not DuplicatePair.objects.filter(lead_b_id=merged.pk).exists()
    # the survivor's latest-event columns and ranks come from the moved events
    survivor.refresh_from_db()
    assert survivor.last_webinar_at is not None and survivor.last_page_view_at is not None
    assert LatestEngagement.objects.filter(lead_id=s, kind="any", nth=2).exists()
    assert survivor.email_opt_in is True  # consent flags re-derived from the moved record
    assert survivor.scored_at is not None and survivor.scored_at >= merge.at
    assert merge.moved["events"] == 2 and merge.moved["deals"] == 1 and merge.moved["calls"] == 1


def test_one_history_row_records_who_when_which_and_the_field_choices(marketer):
    survivor, merged = _pair()

    merge = lead_merge(survivor_id=survivor.pk, merged_id=merged.pk, choices={"first_name": merged.pk}, actor=marketer)

    row = LeadMerge.objects.get()
    assert row == merge
    assert (row.survivor_id, row.merged_lead_id, row.merged_email) == (survivor.pk, merged.pk, merged.email)
    assert row.actor == marketer and row.at is not None
    assert row.choices["first_name"] == merged.pk and row.choices["title"] == survivor.pk
    survivor.refresh_from_db()
    assert survivor.first_name == "Other"  # chosen from the merged lead
    assert survivor.title == "Head of Operations"  # not chosen: the survivor's value


def test_the_survivor_may_take_the_merged_leads_email():
    survivor, merged = _pair()

    lead_merge(survivor_id=survivor.pk, merged_id=merged.pk, choices={"email": merged.pk}, actor=_marketer())

    assert Lead.objects.get(pk=survivor.pk).email == merged.email


def _marketer():
    from django.contrib.auth.models import Group

    from tests.factories import UserFactory

    user = UserFactory()
    user.groups.add(Group.objects.get(name="Marketing"))
    return user


def test_exactly_one_active_assignment_survives_and_the_other_is_closed_with_a_reason(manager, rep):
    survivor, merged = _pair()
    mine = AssignmentFactory(lead=survivor, rep=rep)
    theirs = AssignmentFactory(lead=merged, rep=rep, status=AssignmentStatus.ACCEPTED)

    lead_merge(survivor_id=survivor.pk, merged_id=merged.pk, actor=manager)

    active = Assignment.objects.filter(lead_id=survivor.pk).active()
    assert list(active) == [mine]
    theirs.refresh_from_db()
    assert (
        theirs.status == AssignmentStatus.CLOSED and theirs.closed_reason == "merged" and theirs.lead_id == survivor.pk
    )


def test_the_merged_leads_active_assignment_moves_when_the_survivor_has_none(marketer, rep):
    survivor, merged = _pair(stage=LifecycleStage.SAL)
    Lead.objects.filter(pk=merged.pk).update(stage=LifecycleStage.HANDED_OFF, owner=rep)
    theirs = AssignmentFactory(lead=merged, rep=rep)

    lead_merge(survivor_id=survivor.pk, merged_id=merged.pk, actor=marketer)

    assert list(Assignment.objects.filter(lead_id=survivor.pk).active()) == [theirs]
    assert Lead.objects.get(pk=survivor.pk).owner == rep


def test_a_membership_of_a_campaign_both_are_in_is_kept_once_with_the_further_status(marketer):
    survivor, merged = _pair()
    campaign = CampaignFactory()
    CampaignMemberFactory(lead=survivor, campaign=campaign, status=MemberStatus.SENT)
    responded = timezone.now()
    CampaignMemberFactory(lead=merged, campaign=campaign, status=MemberStatus.RESPONDED, responded_at=responded)

    merge = lead_merge(survivor_id=survivor.pk, merged_id=merged.pk, actor=marketer)

    member = CampaignMember.objects.get(campaign=campaign)
    assert (member.lead_id, member.status, member.responded_at) == (survivor.pk, MemberStatus.RESPONDED, responded)
    assert merge.moved["memberships_already_there"] == 1


def test_the_same_event_on_both_leads_is_kept_once(marketer):
    survivor, merged = _pair()
    EngagementEventFactory(lead=survivor, kind="webinar", source_reference="webinar:7")
    EngagementEventFactory(lead=merged, kind="webinar", source_reference="webinar:7")
    EngagementEventFactory(lead=merged, kind="webinar", source_reference="webinar:8")

    lead_merge(survivor_id=survivor.pk, merged_id=merged.pk, actor=marketer)

    refs = sorted(EngagementEvent.objects.filter(lead_id=survivor.pk).values_list("source_reference", flat=True))
    assert refs == ["webinar:7", "webinar:8"]


def test_two_reps_leads_need_a_manager(marketer, manager, rep, other_rep):
    survivor, merged = _pair(stage=LifecycleStage.SAL, owner=rep)
    Lead.objects.filter(pk=merged.pk).update(stage=LifecycleStage.SAL, owner=other_rep)

    with pytest.raises(PermissionDenied, match="two different reps: only a sales manager"):
        lead_merge(survivor_id=survivor.pk, merged_id=merged.pk, actor=marketer)
    assert Lead.objects.filter(pk=merged.pk).exists()

    lead_merge(survivor_id=survivor.pk, merged_id=merged.pk, actor=manager)
    assert not Lead.objects.filter(pk=merged.pk).exists()


def test_one_reps_lead_and_a_marketing_lead_a_marketer_may_merge(marketer, rep):
    survivor, merged = _pair(stage=LifecycleStage.SAL, owner=rep)

    lead_merge(survivor_id=survivor.pk, merged_id=merged.pk, actor=marketer)

    assert not Lead.objects.filter(pk=merged.pk).exists()


@pytest.mark.parametrize("who", ["rep", "other_rep"])
def test_a_rep_cannot_merge(request, who):
    survivor, merged = _pair()
    with pytest.raises(PermissionDenied):
        lead_merge(survivor_id=survivor.pk, merged_id=merged.pk, actor=request.getfixturevalue(who))


@pytest.mark.parametrize(
    ("choices", "field"),
    [
        ({"first_name": "999999"}, "first_name"),
        ({"first_name": "abc"}, "first_name"),
        ({"stage": "1"}, "stage"),
        ({"owner": "1"}, "owner"),
    ],
)
def test_a_bad_field_choice_is_a_field_error(marketer, choices, field):
    survivor, merged = _pair()

    with pytest.raises(ValidationError) as error:
        lead_merge(survivor_id=survivor.pk, merged_id=merged.pk, choices=choices, actor=marketer)

    assert field in error.value.message_dict
    assert Lead.objects.filter(pk=merged.pk).exists()


def test_a_lead_merged_into_itself_or_gone_is_a_field_error(marketer):
    survivor, merged = _pair()
    with pytest.raises(ValidationError, match="itself"):
        lead_merge(survivor_id=survivor.pk, merged_id=survivor.pk, actor=marketer)
    with pytest.raises(ValidationError, match="no longer exists"):
        lead_merge(survivor_id=survivor.pk, merged_id=merged.pk + 1000, actor=marketer)


def test_keeping_the_lead_less_far_along_than_one_with_sales_is_refused(marketer):
    survivor, merged = _pair()
    Lead.objects.filter(pk=merged.pk).update(stage=LifecycleStage.SAL)

    with pytest.raises(ValidationError) as error:
        lead_merge(survivor_id=survivor.pk, merged_id=merged.pk, actor=marketer)

    assert "further along" in error.value.message_dict["survivor"][0]


def test_the_survivor_proposed_is_further_along_then_older():
    old, new = _pair()
    assert survivor_proposed(new, old) == old
    Lead.objects.filter(pk=new.pk).update(stage=LifecycleStage.MQL)
    new.refresh_from_db()
    assert survivor_proposed(old, new) == new
