import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from campaigns.models import CampaignKind, CustomerFeedback, FeedbackSource, MemberStatus
from campaigns.services.feedback import (
    feedback_from_survey,
    feedback_record,
    survey_member_for_token,
    survey_token,
)
from leads.models import EngagementEvent, EngagementKind, LifecycleStage
from tests.campaigns.factories import CampaignFactory, CampaignMemberFactory
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db


def customer(**kwargs):
    return LeadFactory(stage=LifecycleStage.CUSTOMER, **kwargs)


def survey_member():
    return CampaignMemberFactory(campaign=CampaignFactory(kind=CampaignKind.SURVEY), lead=customer())


def test_a_rep_enters_feedback_for_their_customer(rep):
    lead = customer(owner=rep)

    feedback = feedback_record(lead_id=lead.pk, rating="9", comment=" Great onboarding ", actor=rep)

    assert (feedback.rating, feedback.comment, feedback.source, feedback.entered_by) == (
        9,
        "Great onboarding",
        FeedbackSource.REP,
        rep,
    )


@pytest.mark.parametrize("rating", [-1, 11, "ten", None, True, 7.5])
def test_a_rating_outside_0_to_10_is_refused(rep, rating):
    lead = customer(owner=rep)

    with pytest.raises(ValidationError) as error:
        feedback_record(lead_id=lead.pk, rating=rating, actor=rep)

    assert "rating" in error.value.message_dict


def test_feedback_is_for_customers_only(rep):
    lead = LeadFactory(owner=rep, stage=LifecycleStage.SAL)

    with pytest.raises(ValidationError) as error:
        feedback_record(lead_id=lead.pk, rating=8, actor=rep)

    assert "not a customer" in error.value.message_dict["lead_id"][0]


def test_a_rep_cannot_enter_feedback_for_another_reps_customer(rep, other_rep):
    lead = customer(owner=other_rep)

    with pytest.raises(ValidationError) as error:
        feedback_record(lead_id=lead.pk, rating=8, actor=rep)

    assert error.value.message_dict == {"lead_id": ["Lead not found (it may have been moved to someone else)."]}


def test_people_without_a_role_cannot_enter_feedback(make_user):
    with pytest.raises(PermissionDenied):
        feedback_record(lead_id=customer().pk, rating=8, actor=make_user())


def test_a_survey_link_records_feedback_marks_the_member_and_scores(db):
    member = survey_member()

    feedback = feedback_from_survey(token=survey_token(member), rating=3, comment="Slow support")

    member.refresh_from_db()
    assert (feedback.rating, feedback.source, feedback.campaign_id) == (3, FeedbackSource.SURVEY, member.campaign_id)
    assert member.status == MemberStatus.RESPONDED
    assert EngagementEvent.objects.filter(lead=member.lead, kind=EngagementKind.CAMPAIGN_RESPONSE).count() == 1


def test_a_survey_answered_twice_is_refused(db):
    member = survey_member()
    token = survey_token(member)
    feedback_from_survey(token=token, rating=10)

    with pytest.raises(ValidationError) as error:
        feedback_from_survey(token=token, rating=0)

    assert "already been answered" in error.value.message_dict["token"][0]
    assert CustomerFeedback.objects.count() == 1


def test_a_forged_or_non_survey_token_finds_nothing(db):
    member = survey_member()
    webinar_member = CampaignMemberFactory(campaign=CampaignFactory(kind=CampaignKind.WEBINAR))

    assert survey_member_for_token(survey_token(member)) == member
    assert survey_member_for_token(survey_token(member)[:-2] + "xx") is None
    assert survey_member_for_token(survey_token(webinar_member)) is None
    assert survey_member_for_token("") is None
