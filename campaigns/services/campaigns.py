"""Campaigns: create and change them, add members (from a segment in one statement, or one by
one), move member statuses and record responses that reach scoring."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import CharField as CharFieldType
from django.db.models import Count, DateTimeField, Exists, OuterRef, Q, Value
from django.db.models import IntegerField as IntegerFieldType
from django.utils import timezone

from config.text_limits import text_lengths_check, too_long_message
from leads.api import EngagementKind, Lead, LifecycleStage, Segment, engagement_record

from ..models import (
    CUSTOMER_CAMPAIGN_KINDS,
    Campaign,
    CampaignKind,
    CampaignMember,
    CampaignStatus,
    MemberStatus,
)
from .access import ensure_marketer, is_id

# The engagement event a response to each kind of campaign records on the lead; the scoring
# rules give points per event kind, so a response moves the lead's score.
RESPONSE_EVENT_KIND: dict[str, str] = {
    CampaignKind.EMAIL: EngagementKind.EMAIL_CLICK,
    CampaignKind.WEBINAR: EngagementKind.WEBINAR,
    CampaignKind.EVENT: EngagementKind.EVENT_ATTENDED,
    CampaignKind.PAID_ADS: EngagementKind.PAGE_VIEW,
    CampaignKind.CONTENT: EngagementKind.PAGE_VIEW,
    CampaignKind.REFERRAL: EngagementKind.FORM_SUBMIT,
    CampaignKind.LOYALTY: EngagementKind.CAMPAIGN_RESPONSE,
    CampaignKind.SURVEY: EngagementKind.CAMPAIGN_RESPONSE,
}

# Member statuses only move forward; a response or conversion never goes back to 'sent'.
MEMBER_STATUS_ORDER = [MemberStatus.TARGETED, MemberStatus.SENT, MemberStatus.RESPONDED, MemberStatus.CONVERTED]

CLOSED_CAMPAIGN_STATUSES = (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED)

NAME_MAX_LENGTH = Campaign._meta.get_field("name").max_length

_EDITABLE = ("name", "kind", "status", "starts_on", "ends_on", "budget", "actual_cost", "goal", "target_segment_id")


def _money(value, field: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: "Give an amount, e.g. 1500.00."}) from None
    if not amount.is_finite() or amount < 0:
        raise ValidationError({field: "The amount must be zero or more."})
    if amount >= Decimal("1e10"):
        raise ValidationError({field: "The amount is too large."})
    return amount.quantize(Decimal("0.01"))


def _apply(campaign: Campaign, fields: dict) -> None:
    if "name" in fields:
        name = (fields["name"] or "").strip()
        if not name:
            raise ValidationError({"name": "A name is required."})
        clash = Campaign.objects.filter(name__iexact=name).exclude(pk=campaign.pk).exists()
        if clash:
            raise ValidationError({"name": f"A campaign named '{name}' already exists."})
        if len(name) > NAME_MAX_LENGTH:
            raise ValidationError({"name": too_long_message(NAME_MAX_LENGTH, len(name))})
        campaign.name = name
    if "kind" in fields:
        if fields["kind"] not in CampaignKind.values:
            raise ValidationError({"kind": f"'{fields['kind']}' is not a campaign type."})
        if campaign.pk and fields["kind"] != campaign.kind and campaign.members.exists():
            raise ValidationError({"kind": "The type of a campaign with members cannot change."})
        campaign.kind = fields["kind"]
    if "status" in fields:
        if fields["status"] not in CampaignStatus.values:
            raise ValidationError({"status": f"'{fields['status']}' is not a campaign status."})
        campaign.status = fields["status"]
    for date_field in ("starts_on", "ends_on"):
        if date_field in fields:
            value = fields[date_field]
            if value is not None and not isinstance(value, datetime.date):
                raise ValidationError({date_field: "Give a date (YYYY-MM-DD)."})
            setattr(campaign, date_field, value)
    if campaign.starts_on and campaign.ends_on and campaign.ends_on < campaign.starts_on:
        raise ValidationError({"ends_on": "The campaign cannot end before it starts."})
    for money_field in ("budget", "actual_cost"):
        if money_field in fields:
            setattr(campaign, money_field, _money(fields[money_field], money_field))
    if "goal" in fields:
        text_lengths_check({"goal": fields["goal"]})
        campaign.goal = fields["goal"] or ""
    if "target_segment_id" in fields:
        segment_id = fields["target_segment_id"]
        if segment_id in (None, ""):
            campaign.target_segment = None
        else:
            segment = Segment.objects.filter(pk=segment_id).first() if is_id(segment_id) else None
            if segment is None:
                raise ValidationError({"target_segment_id": "Segment not found."})
            campaign.target_segment = segment


def campaign_fields_check(*, campaign: Campaign, fields: dict) -> None:
    """The checks ``campaign_create`` / ``campaign_update`` run on ``fields``, without writing
    (forms call it to name the bad field before saving)."""
    unknown = set(fields) - set(_EDITABLE)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "Not a campaign field."})
    probe = Campaign(pk=campaign.pk, kind=campaign.kind, starts_on=campaign.starts_on, ends_on=campaign.ends_on)
    _apply(probe, fields)


def campaign_create(*, actor, name: str, kind: str, **fields) -> Campaign:
    """Create a campaign owned by ``actor`` (marketing only)."""
    ensure_marketer(actor, action="create campaigns")
    unknown = set(fields) - set(_EDITABLE)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "Not a campaign field."})
    campaign = Campaign(owner=actor)
    _apply(campaign, {"name": name, "kind": kind, **fields})
    try:
        with transaction.atomic():
            campaign.save()
    except IntegrityError:
        raise ValidationError({"name": f"A campaign named '{campaign.name}' already exists."}) from None
    return campaign


def campaign_update(*, campaign_id: int, actor, **fields) -> Campaign:
    ensure_marketer(actor, action="change campaigns")
    unknown = set(fields) - set(_EDITABLE)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "Not a campaign field."})
    with transaction.atomic():
        campaign = _get_campaign(campaign_id, lock=True)
        _apply(campaign, fields)
        try:
            with transaction.atomic():
                campaign.save()
        except IntegrityError:
            raise ValidationError({"name": f"A campaign named '{campaign.name}' already exists."}) from None
    return campaign


def _get_campaign(campaign_id, *, lock: bool = False) -> Campaign:
    qs = Campaign.objects.select_for_update() if lock else Campaign.objects.all()
    campaign = qs.filter(pk=campaign_id).first() if is_id(campaign_id) else None
    if campaign is None:
        raise ValidationError({"campaign_id": "Campaign not found."}, code="not_found")
    return campaign


def campaign_audience_q(campaign: Campaign) -> Q:
    """Who a campaign may include at all: never a do-not-contact lead; email campaigns only
    leads who opted in to email; loyalty programs and surveys only customers."""
    q = Q(do_not_contact=False)
    if campaign.kind == CampaignKind.EMAIL:
        q &= Q(email_opt_in=True)
    if campaign.kind in CUSTOMER_CAMPAIGN_KINDS:
        q &= Q(stage=LifecycleStage.CUSTOMER)
    return q


def _ensure_open(campaign: Campaign) -> None:
    if campaign.status in CLOSED_CAMPAIGN_STATUSES:
        raise ValidationError(
            {"campaign_id": f"Campaign '{campaign.name}' is {campaign.get_status_display().lower()}; add no members."}
        )


# Why a lead of the chosen set did not become a member, in the order they are told apart (a
# lead that is both erased and do-not-contact counts once, as erased).
SKIP_REASONS: dict[str, tuple[str, str]] = {
    "already_member": ("already a member", "already members"),
    "erased": ("erased", "erased"),
    "do_not_contact": ("do not contact (opted out)", "do not contact (opted out)"),
    "no_email_opt_in": ("not opted in to email", "not opted in to email"),
    "not_customer": ("not a customer", "not customers"),
    "not_found": ("not found", "not found"),
}


@dataclass(frozen=True)
class MembersAdded:
    """What adding a set of leads did: how many became members and, per reason in
    ``SKIP_REASONS``, how many did not."""

    added: int
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def message(self) -> str:
        text = f"{self.added:,} member{'' if self.added == 1 else 's'} added"
        if not self.skipped_total:
            return text + "."
        reasons = ", ".join(f"{count:,} {SKIP_REASONS[reason][count != 1]}" for reason, count in self.skipped.items())
        return text + f"; {self.skipped_total:,} skipped: {reasons}."


def _members_skips(campaign: Campaign, candidates) -> tuple[int, dict[str, int]]:
    """How many ``candidates`` (a Lead queryset) there are and how many of them the add will
    skip, per reason, in one aggregate query. Mirrors ``campaign_audience_q`` and the
    already-member test of the INSERT."""
    member = Exists(CampaignMember.objects.filter(campaign_id=campaign.pk, lead_id=OuterRef("pk")))
    fresh = Q(_member=False)
    alive = fresh & Q(erased_at__isnull=True)
    contactable = alive & Q(do_not_contact=False)
    counts = {
        "total": Count("pk"),
        "already_member": Count("pk", filter=Q(_member=True)),
        "erased": Count("pk", filter=fresh & Q(erased_at__isnull=False)),
        "do_not_contact": Count("pk", filter=alive & Q(do_not_contact=True)),
    }
    if campaign.kind == CampaignKind.EMAIL:
        counts["no_email_opt_in"] = Count("pk", filter=contactable & Q(email_opt_in=False))
    if campaign.kind in CUSTOMER_CAMPAIGN_KINDS:
        optin = Q(email_opt_in=True) if campaign.kind == CampaignKind.EMAIL else Q()
        counts["not_customer"] = Count("pk", filter=contactable & optin & ~Q(stage=LifecycleStage.CUSTOMER))
    # The aggregates are named apart from the Lead fields they count (do_not_contact ...).
    row = candidates.order_by().annotate(_member=member).aggregate(**{f"n_{k}": v for k, v in counts.items()})
    total = row.pop("n_total")
    return total, {k.removeprefix("n_"): v for k, v in row.items()}


def members_insert(*, campaign: Campaign, candidates, at) -> MembersAdded:
    """Insert every lead of ``candidates`` who fits the campaign's audience and is not yet a
    member, in ONE ``INSERT ... SELECT`` (``ON CONFLICT DO NOTHING`` covers a concurrent add),
    after one aggregate query that counts the skips per reason. A lead a concurrent add made
    a member in between counts as already a member."""
    already = CampaignMember.objects.filter(campaign_id=campaign.pk, lead_id=OuterRef("pk"))
    # Should the candidates' Q ever join a multi-valued relation, a lead could come out twice;
    # ON CONFLICT DO NOTHING then keeps the first row instead of failing.
    rows = (
        candidates.filter(campaign_audience_q(campaign))
        .filter(~Exists(already))
        .order_by()
        .annotate(
            _campaign=Value(campaign.pk, output_field=IntegerFieldType()),
            _status=Value(MemberStatus.TARGETED.value, output_field=CharFieldType()),
            _added=Value(at, output_field=DateTimeField()),
        )
        .values_list("_campaign", "pk", "_status", "_added")
    )
    # Django 5.2 selects values_list() columns in the order named, which the INSERT relies on.
    select_sql, params = rows.query.sql_with_params()
    table = connection.ops.quote_name(CampaignMember._meta.db_table)
    sql = (
        f"INSERT INTO {table} (campaign_id, lead_id, status, added_at) "
        f"{select_sql} ON CONFLICT (campaign_id, lead_id) DO NOTHING"
    )
    with transaction.atomic():
        total, skipped = _members_skips(campaign, candidates)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            added = max(cursor.rowcount, 0)
    raced = total - sum(skipped.values()) - added
    if raced > 0:
        skipped["already_member"] += raced
    return MembersAdded(added=added, skipped={k: v for k, v in skipped.items() if v})


def campaign_members_add_from_segment(
    *, campaign_id: int, actor, segment_id: int | None = None, at=None
) -> MembersAdded:
    """Add every lead of a segment (the campaign's target segment unless ``segment_id`` is
    given) who fits the campaign's audience, in ONE ``INSERT ... SELECT`` statement (plus one
    aggregate query for the skip counts): the number of queries does not depend on the number
    of members. Leads already in the campaign are skipped. Returns how many were added and how
    many were skipped, per reason (already members, erased, do not contact, no email opt-in,
    not customers)."""
    ensure_marketer(actor, action="add campaign members")
    from leads.api import segment_member_q  # the segment compiler lives in leads

    campaign = _get_campaign(campaign_id)
    _ensure_open(campaign)
    if segment_id in (None, ""):
        segment = campaign.target_segment
        if segment is None:
            raise ValidationError({"segment_id": "Choose a segment; the campaign has no target segment."})
    else:
        segment = Segment.objects.filter(pk=segment_id).first() if is_id(segment_id) else None
        if segment is None:
            raise ValidationError({"segment_id": "Segment not found."})
    return members_insert(
        campaign=campaign, candidates=Lead.objects.filter(segment_member_q(segment)), at=at or timezone.now()
    )


def campaign_member_add(*, campaign_id: int, lead_id: int, actor, at=None) -> CampaignMember:
    """Add one lead to a campaign. A lead already in it is a clear error (``lead_id``), as is
    one outside the campaign's audience (do-not-contact, no email opt-in for email, not a
    customer for loyalty programs and surveys)."""
    ensure_marketer(actor, action="add campaign members")
    campaign = _get_campaign(campaign_id)
    _ensure_open(campaign)
    lead = Lead.objects.filter(pk=lead_id).first() if is_id(lead_id) else None
    if lead is None:
        raise ValidationError({"lead_id": "Lead not found."}, code="not_found")
    _ensure_in_audience(campaign, lead)
    try:
        with transaction.atomic():
            return CampaignMember.objects.create(campaign=campaign, lead=lead, added_at=at or timezone.now())
    except IntegrityError:
        raise ValidationError(
            {"lead_id": f"{lead.email} is already a member of '{campaign.name}'."}, code="duplicate"
        ) from None


def _ensure_in_audience(campaign: Campaign, lead: Lead) -> None:
    if lead.do_not_contact:
        raise ValidationError({"lead_id": f"{lead.email} must not be contacted."})
    if campaign.kind == CampaignKind.EMAIL and not lead.email_opt_in:
        raise ValidationError({"lead_id": f"{lead.email} has not opted in to marketing email."})
    if campaign.kind in CUSTOMER_CAMPAIGN_KINDS and lead.stage != LifecycleStage.CUSTOMER:
        raise ValidationError(
            {
                "lead_id": f"{campaign.get_kind_display()}s are for customers only; "
                f"{lead.email} is {LifecycleStage(lead.stage).label}."
            }
        )


def campaign_member_status_set(*, member_id: int, status: str, actor, at=None) -> CampaignMember:
    """Move a member forward (targeted -> sent -> responded -> converted). Moving back is an
    error; setting the current status again is a no-op. Reaching 'responded' this way does
    not record an engagement event: use ``campaign_response_record`` for a real response."""
    ensure_marketer(actor, action="change campaign members")
    if status not in MemberStatus.values:
        raise ValidationError({"status": f"'{status}' is not a member status."})
    with transaction.atomic():
        member = CampaignMember.objects.select_for_update().filter(pk=member_id).first() if is_id(member_id) else None
        if member is None:
            raise ValidationError({"member_id": "Member not found."}, code="not_found")
        current, wanted = MEMBER_STATUS_ORDER.index(member.status), MEMBER_STATUS_ORDER.index(status)
        if wanted < current:
            raise ValidationError(
                {"status": f"A member who is {member.get_status_display().lower()} cannot go back to {status}."}
            )
        if wanted > current:
            member.status = status
            if status in (MemberStatus.RESPONDED, MemberStatus.CONVERTED) and member.responded_at is None:
                member.responded_at = at or timezone.now()
            member.save(update_fields=["status", "responded_at"])
    return member


def campaign_members_mark_sent(*, campaign_id: int, actor) -> int:
    """The campaign went out: every member still 'targeted' becomes 'sent', in one UPDATE.
    Members who already got further are left alone. Returns how many changed."""
    ensure_marketer(actor, action="change campaign members")
    campaign = _get_campaign(campaign_id)
    if campaign.status == CampaignStatus.CANCELLED:
        raise ValidationError({"campaign_id": f"Campaign '{campaign.name}' was cancelled."})
    # A member who withdrew consent since being added (unsubscribed, do not contact) is not
    # sent to: the audience is checked again at sending time.
    audience = Lead.objects.filter(campaign_audience_q(campaign)).values("pk")
    return CampaignMember.objects.filter(campaign=campaign, status=MemberStatus.TARGETED, lead_id__in=audience).update(
        status=MemberStatus.SENT
    )


def campaign_response_record(
    *, campaign_id: int, lead_id: int, actor=None, occurred_at=None, reference: str = "", add_if_missing: bool = False
) -> CampaignMember:
    """A member responded (attended the webinar, clicked the email, ...): records the
    engagement event of the campaign's type on the lead through ``leads.api.engagement_record``
    (source ``campaign:<id>`` or ``campaign:<id>:<reference>``; a repeat is not counted twice)
    and marks the member responded (a converted member stays converted). ``engagement_record``
    enqueues the lead's re-scoring after commit. A lead who is not a member is an error unless
    ``add_if_missing`` (e.g. a walk-in at an event), which adds them first."""
    if actor is not None:
        ensure_marketer(actor, action="record campaign responses")
    at = occurred_at or timezone.now()
    with transaction.atomic():
        campaign = _get_campaign(campaign_id)
        if campaign.status == CampaignStatus.CANCELLED:
            raise ValidationError({"campaign_id": f"Campaign '{campaign.name}' was cancelled."})
        member = (
            CampaignMember.objects.select_for_update().filter(campaign=campaign, lead_id=lead_id).first()
            if is_id(lead_id)
            else None
        )
        if member is None:
            if not add_if_missing:
                raise ValidationError({"lead_id": f"This lead is not a member of '{campaign.name}'."})
            member = campaign_member_add(campaign_id=campaign.pk, lead_id=lead_id, actor=actor, at=at)
        source = f"campaign:{campaign.pk}" + (f":{reference[:80]}" if reference else "")
        engagement_record(
            lead_id=member.lead_id, kind=RESPONSE_EVENT_KIND[campaign.kind], occurred_at=at, source_reference=source
        )
        if member.status != MemberStatus.CONVERTED:
            member.status = MemberStatus.RESPONDED
        if member.responded_at is None:
            member.responded_at = at
        member.save(update_fields=["status", "responded_at"])
    return member
