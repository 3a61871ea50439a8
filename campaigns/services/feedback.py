"""Customer feedback: a 0-10 rating and a comment, from a survey link or entered by a rep,
kept per customer for the reports.

A survey link carries a signed token of the campaign membership (``django.core.signing``
with its own salt): it cannot be forged or guessed, needs no stored secret per member (so
members added in one set-based statement get links too), and one answer per invitation is
enforced by a partial unique constraint.
"""

from __future__ import annotations

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from config.roles import is_manager, is_marketer, is_rep
from leads.api import LifecycleStage

from ..models import CampaignKind, CampaignMember, CustomerFeedback, FeedbackSource
from ..signals import campaign_events_announce
from .access import is_id, lead_for_actor
from .campaigns import campaign_response_record

SURVEY_SALT = "campaigns.survey-link"


def _rating(value) -> int:
    if isinstance(value, bool):
        raise ValidationError({"rating": "Give a whole number from 0 to 10."})
    try:
        rating = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError({"rating": "Give a whole number from 0 to 10."}) from None
    if not 0 <= rating <= 10:
        raise ValidationError({"rating": f"The rating must be from 0 to 10, not {rating}."})
    return rating


def _comment(value) -> str:
    comment = (value or "").strip()
    if len(comment) > 5000:
        raise ValidationError({"comment": "Keep the comment under 5,000 characters."})
    return comment


def feedback_record(*, lead_id: int, rating, comment: str = "", actor, campaign_id: int | None = None, at=None):
    """A rep (for a customer they own), a manager or marketing enters a customer's feedback.
    The lead must be a customer (``lead_id`` error otherwise)."""
    if actor is None or not (is_rep(actor) or is_manager(actor) or is_marketer(actor)):
        raise PermissionDenied("Only reps, managers and marketing enter customer feedback.")
    rating = _rating(rating)
    comment = _comment(comment)
    lead = lead_for_actor(actor=actor, lead_id=lead_id)
    if lead.stage != LifecycleStage.CUSTOMER:
        raise ValidationError({"lead_id": f"Feedback is kept for customers; {lead.email} is not a customer."})
    if campaign_id not in (None, "") and not (
        is_id(campaign_id) and CampaignMember.objects.filter(campaign_id=campaign_id, lead=lead).exists()
    ):
        raise ValidationError({"campaign_id": "The customer is not in this campaign."})
    with transaction.atomic():
        feedback = CustomerFeedback.objects.create(
            lead=lead,
            campaign_id=campaign_id or None,
            rating=rating,
            comment=comment,
            source=FeedbackSource.REP,
            entered_by=actor,
            created_at=at or timezone.now(),
        )
        _announce(feedback)
    return feedback


def _announce(feedback: CustomerFeedback) -> None:
    campaign_events_announce(
        "customer.feedback",
        [
            {
                "feedback": feedback.pk,
                "lead": feedback.lead_id,
                "campaign": feedback.campaign_id,
                "rating": feedback.rating,
                "comment": feedback.comment,
                "source": feedback.source,
                "at": feedback.created_at.isoformat(),
            }
        ],
    )


def survey_token(member: CampaignMember) -> str:
    return signing.dumps(member.pk, salt=SURVEY_SALT, compress=False)


def survey_member_for_token(token: str) -> CampaignMember | None:
    """The survey invitation behind a link, or None (bad signature, not a survey, gone)."""
    if not token or len(token) > 200:
        return None
    try:
        member_id = signing.loads(token, salt=SURVEY_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(member_id, int):
        return None
    return (
        CampaignMember.objects.select_related("campaign", "lead")
        .filter(pk=member_id, campaign__kind=CampaignKind.SURVEY)
        .first()
    )


def survey_already_answered(member: CampaignMember) -> bool:
    return CustomerFeedback.objects.filter(
        campaign_id=member.campaign_id, lead_id=member.lead_id, source=FeedbackSource.SURVEY
    ).exists()


def feedback_from_survey(*, token: str, rating, comment: str = "", at=None) -> CustomerFeedback:
    """A customer answers a survey link: keeps the feedback, marks the member responded and
    records a campaign response event on the lead. A second answer is refused (``token``)."""
    member = survey_member_for_token(token)
    if member is None:
        raise ValidationError({"token": "This survey link is not valid."}, code="not_found")
    rating = _rating(rating)
    comment = _comment(comment)
    at = at or timezone.now()
    try:
        with transaction.atomic():
            feedback = CustomerFeedback.objects.create(
                lead_id=member.lead_id,
                campaign_id=member.campaign_id,
                rating=rating,
                comment=comment,
                source=FeedbackSource.SURVEY,
                created_at=at,
            )
            campaign_response_record(campaign_id=member.campaign_id, lead_id=member.lead_id, occurred_at=at)
            _announce(feedback)
    except IntegrityError:
        raise ValidationError(
            {"token": "This survey has already been answered. Thank you!"}, code="duplicate"
        ) from None
    return feedback
