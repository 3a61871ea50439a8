"""Deterministic, idempotent demo data across all apps (used by `seed_demo`).

Leads are generated from the bank-marketing call list (see devtools/demo/leads.py); each lead's
path through the lifecycle is drawn from a per-lead random generator seeded by (seed, index),
and whether a deal is won follows that real row's outcome. Everything is written with
bulk inserts, so 100,000 leads take seconds, and every stage change is recorded as a
LeadTransition so reports can rebuild history. Running it again creates nothing new.
"""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from campaigns.models import (
    Campaign,
    CampaignKind,
    CampaignMember,
    CampaignStatus,
    Collateral,
    CollateralKind,
    CollateralShare,
    CollateralView,
    CustomerFeedback,
    FeedbackSource,
    FunnelStage,
    MemberStatus,
    ObjectionCategory,
)
from config.roles import MARKETING, SALES_MANAGER, SALES_REP
from crm.models import (
    Account,
    Assignment,
    AssignmentStatus,
    Call,
    CallOutcome,
    Contact,
    Deal,
    DealStage,
    DealStageChange,
    FollowUp,
    FollowUpKind,
    LostReason,
    ObjectionNote,
    QueueMembership,
    RejectReason,
    RoutingStrategy,
    SalesQueue,
    SlaAction,
    SlaBreach,
)
from devtools.demo.leads import generate_leads, lead_values
from leads.api import lead_engagement_refresh, leads_rescore_all
from leads.models import (
    EngagementEvent,
    EngagementKind,
    Lead,
    LeadOutcome,
    LeadTransition,
    LifecycleStage,
    RuleKind,
    ScoringPolicy,
    ScoringRule,
    Segment,
    SegmentVersion,
)
from leads.segment_services import segment_member_count
from leads.services import REASON_LOST_PREFIX, REASON_NO_CONTACT, REASON_REJECTED_PREFIX, REASON_WON

S = LifecycleStage
EMAIL_PREFIX = "demo"

SEGMENTS = {
    "Ideal customer profile": (
        True,
        "Mid-sized software and finance companies in Europe.",
        {
            "all": [
                {"field": "industry", "op": "in", "value": ["software", "finance"]},
                {"field": "employees", "op": "between", "value": [50, 5000]},
                {"field": "country", "op": "in", "value": ["PT", "ES", "DE", "FR", "NL", "GB"]},
            ]
        },
    ),
    "Enterprise": (
        False,
        "Companies with 1,000 employees or more.",
        {"all": [{"field": "employees", "op": "gte", "value": 1000}]},
    ),
    "Webinar engaged": (
        False,
        "Attended a webinar in the last 60 days.",
        {"all": [{"field": "engagement", "op": "at_least", "value": {"kind": "webinar", "count": 1, "days": 60}}]},
    ),
    "Managers and founders": (
        False,
        "Decision makers by job title.",
        {
            "any": [
                {"field": "title", "op": "starts_with", "value": "Head"},
                {"field": "title", "op": "contains", "value": "CEO"},
            ]
        },
    ),
}

FIT_RULES = [
    # name, field, operator, value, points
    ("Target industry", "industry", "in", ["software", "finance", "healthcare"], 15),
    ("Mid-market or larger", "employees", "gte", 50, 10),
    ("Decision maker title", "title", "in", ["Head of Operations", "Founder & CEO", "Service Manager"], 10),
    ("Europe", "country", "in", ["PT", "ES", "DE", "FR", "NL", "GB"], 5),
    ("Student", "attr.job", "eq", "student", -10),
    ("Previous campaign success", "attr.previous_outcome", "eq", "success", 15),
]
ENGAGEMENT_RULES = [
    # name, kind, points per event, cap, half-life days
    ("Page views", EngagementKind.PAGE_VIEW, 2, 20, 14),
    ("Email clicks", EngagementKind.EMAIL_CLICK, 5, 20, 21),
    ("Form submissions", EngagementKind.FORM_SUBMIT, 15, 30, 30),
    ("Webinars", EngagementKind.WEBINAR, 20, 40, 45),
    ("Collateral views", EngagementKind.COLLATERAL_VIEW, 8, 24, 30),
    ("Events attended", EngagementKind.EVENT_ATTENDED, 25, 25, 60),
]
QUEUES = [
    # name, segment name, priority, strategy, SLA minutes, SLA action
    ("Enterprise desk", "Enterprise", 10, RoutingStrategy.LEAST_LOADED, 30, SlaAction.ESCALATE),
    ("Mid-market", "Ideal customer profile", 20, RoutingStrategy.ROUND_ROBIN, 60, SlaAction.REASSIGN),
    ("General inbound", None, 100, RoutingStrategy.ROUND_ROBIN, 240, SlaAction.REASSIGN),
]
CAMPAIGNS = [
    # name, kind, status, days ago start, duration, budget, cost, goal
    (
        "Spring webinar series",
        CampaignKind.WEBINAR,
        CampaignStatus.COMPLETED,
        110,
        30,
        12000,
        11250,
        "200 MQLs from webinars",
    ),
    ("Q3 paid search", CampaignKind.PAID_ADS, CampaignStatus.COMPLETED, 80, 45, 20000, 19400, "Cost per MQL under 150"),
    ("Finance newsletter", CampaignKind.EMAIL, CampaignStatus.ACTIVE, 60, 90, 3000, 1200, "Re-engage finance leads"),
    ("Lisbon summit", CampaignKind.EVENT, CampaignStatus.ACTIVE, 30, 40, 25000, 18000, "Meet 300 prospects in person"),
    (
        "Customer loyalty club",
        CampaignKind.LOYALTY,
        CampaignStatus.ACTIVE,
        20,
        120,
        5000,
        900,
        "Keep customers renewing",
    ),
    ("Customer survey Q4", CampaignKind.SURVEY, CampaignStatus.PLANNED, 5, 30, 500, 0, "NPS from every customer"),
]
COLLATERAL = [
    # title, kind, url, industries, stage, objections
    (
        "ROI calculator for finance teams",
        CollateralKind.WEB_PAGE,
        "https://example.com/roi",
        ["finance"],
        FunnelStage.DECISION,
        ["price"],
    ),
    (
        "Case study: Atlas Bank cut call time 30%",
        CollateralKind.CASE_STUDY,
        "https://example.com/atlas-bank",
        ["finance"],
        FunnelStage.CONSIDERATION,
        ["trust", "need"],
    ),
    (
        "Battlecard: Baton vs legacy CRMs",
        CollateralKind.BATTLECARD,
        "https://example.com/battlecard",
        [],
        FunnelStage.DECISION,
        ["competitor"],
    ),
    ("Price sheet 2026", CollateralKind.PRICE_SHEET, "https://example.com/prices", [], FunnelStage.DECISION, ["price"]),
    (
        "Implementation in 30 days",
        CollateralKind.PRESENTATION,
        "https://example.com/implementation",
        ["software", "healthcare"],
        FunnelStage.CONSIDERATION,
        ["timing", "product_fit"],
    ),
    ("Product tour video", CollateralKind.VIDEO, "https://example.com/tour", [], FunnelStage.AWARENESS, ["need"]),
    (
        "Security and compliance brochure",
        CollateralKind.BROCHURE,
        "https://example.com/security",
        ["finance", "healthcare"],
        FunnelStage.CONSIDERATION,
        ["trust", "authority"],
    ),
]
OBJECTION_LINES = {
    ObjectionCategory.PRICE: ("Too expensive compared with what we pay now.", "Walked through the ROI calculator."),
    ObjectionCategory.TIMING: ("Not before next quarter's budget.", "Agreed a pilot that starts next quarter."),
    ObjectionCategory.COMPETITOR: ("We are already talking to another vendor.", "Sent the battlecard."),
    ObjectionCategory.AUTHORITY: ("I need my director to sign off.", "Booked a call with the director."),
    ObjectionCategory.NEED: ("Our spreadsheet works fine.", "Showed the hand-off speed numbers."),
    ObjectionCategory.TRUST: ("Never heard of you.", "Shared the Atlas Bank case study."),
    ObjectionCategory.PRODUCT_FIT: ("We need an integration you do not have.", "Logged a feature request."),
    ObjectionCategory.OTHER: ("Call me later.", "Scheduled a callback."),
}
EVENT_KINDS = (
    EngagementKind.PAGE_VIEW,
    EngagementKind.PAGE_VIEW,
    EngagementKind.PAGE_VIEW,
    EngagementKind.EMAIL_OPEN,
    EngagementKind.EMAIL_CLICK,
    EngagementKind.FORM_SUBMIT,
    EngagementKind.WEBINAR,
    EngagementKind.EVENT_ATTENDED,
)


def _user(username: str, *, group: str, password: str, staff: bool, first_name: str = "") -> object:
    User = get_user_model()
    user, _ = User.objects.get_or_create(username=username, defaults={"email": f"{username}@baton.example"})
    user.is_staff = staff
    user.first_name = first_name or username.title()
    user.set_password(password)
    user.save()
    user.groups.add(Group.objects.get(name=group))
    return user


def _clamp(moment: datetime.datetime, now: datetime.datetime) -> datetime.datetime:
    return min(moment, now - datetime.timedelta(minutes=1))


class _History:
    """Collects rows for bulk insertion."""

    def __init__(self):
        self.transitions: list[LeadTransition] = []
        self.events: list[EngagementEvent] = []
        self.assignments: list[Assignment] = []
        self.calls: list[tuple[Call, list]] = []
        self.follow_ups: list[FollowUp] = []
        self.deals: list[tuple[Lead, dict]] = []
        self.members: list[CampaignMember] = []
        self.lead_updates: list[Lead] = []
        self.breaches: list[tuple[Assignment, datetime.datetime]] = []

    def move(
        self, lead: Lead, to_stage: str, at, actor=None, reason: str = "", outcome: str = "", outcome_reason: str = ""
    ) -> None:
        self.transitions.append(
            LeadTransition(
                lead=lead,
                from_stage=lead.stage,
                to_stage=to_stage,
                actor=actor,
                reason=reason,
                outcome=outcome,
                outcome_reason=outcome_reason,
                at=at,
            )
        )
        lead.stage = to_stage
        lead.stage_changed_at = at
        if to_stage == S.MQL:
            lead.qualified_at = at


@transaction.atomic
def seed_demo(*, leads: int = 2000, reps: int = 5, seed: int = 42, password: str = "demo") -> dict[str, int]:
    now = timezone.now()
    manager = _user("manager", group=SALES_MANAGER, password=password, staff=True, first_name="Morgan")
    marketer = _user("marketer", group=MARKETING, password=password, staff=True, first_name="Maya")
    rep_users = [_user(f"rep{i}", group=SALES_REP, password=password, staff=False) for i in range(1, reps + 1)]

    ScoringPolicy.objects.update_or_create(
        pk=1, defaults={"threshold": 70, "fit_minimum": 15, "default_half_life_days": 30, "updated_by": marketer}
    )
    segments = {}
    for name, (is_icp, description, definition) in SEGMENTS.items():
        segment, created = Segment.objects.get_or_create(
            name=name,
            defaults={"is_icp": is_icp, "description": description, "definition": definition, "created_by": marketer},
        )
        if created:
            SegmentVersion.objects.create(segment=segment, version=1, definition=definition, created_by=marketer)
        segments[name] = segment

    for position, (name, field, operator, value, points) in enumerate(FIT_RULES):
        ScoringRule.objects.get_or_create(
            name=name,
            defaults={
                "kind": RuleKind.FIT,
                "field": field,
                "operator": operator,
                "value": value,
                "points": points,
                "position": position,
            },
        )
    ScoringRule.objects.get_or_create(
        name="In the ideal customer profile",
        defaults={"kind": RuleKind.FIT, "segment": segments["Ideal customer profile"], "points": 20, "position": 50},
    )
    for position, (name, kind, per_event, cap, half_life) in enumerate(ENGAGEMENT_RULES):
        ScoringRule.objects.get_or_create(
            name=name,
            defaults={
                "kind": RuleKind.ENGAGEMENT,
                "event_kind": kind,
                "points_per_event": per_event,
                "cap": cap,
                "half_life_days": half_life,
                "position": position,
            },
        )

    queues = []
    for index, (name, segment_name, priority, strategy, sla, action) in enumerate(QUEUES):
        queue, _ = SalesQueue.objects.get_or_create(
            name=name,
            defaults={
                "segment": segments.get(segment_name),
                "priority": priority,
                "strategy": strategy,
                "sla_minutes": sla,
                "sla_action": action,
                "manager": manager,
                "timezone": "Europe/Lisbon",
                "max_attempts": 6,
            },
        )
        members = rep_users if segment_name is None else rep_users[index::2] or rep_users[:1]
        for rep in members:
            QueueMembership.objects.get_or_create(queue=queue, rep=rep, defaults={"capacity": 400})
        queues.append((queue, members))

    campaign_segments = {
        "Spring webinar series": "Webinar engaged",
        "Q3 paid search": "Ideal customer profile",
        "Lisbon summit": "Managers and founders",
    }
    campaigns = []
    for name, kind, status, days_ago, duration, budget, cost, goal in CAMPAIGNS:
        starts = (now - datetime.timedelta(days=days_ago)).date()
        campaign, _ = Campaign.objects.get_or_create(
            name=name,
            defaults={
                "kind": kind,
                "status": status,
                "starts_on": starts,
                "ends_on": starts + datetime.timedelta(days=duration),
                "budget": budget,
                "actual_cost": cost,
                "owner": marketer,
                "goal": goal,
                "target_segment": segments.get(campaign_segments.get(name, "")),
            },
        )
        campaigns.append(campaign)
    collateral = []
    for title, kind, url, industries, stage, objections in COLLATERAL:
        item, _ = Collateral.objects.get_or_create(
            title=title,
            defaults={
                "kind": kind,
                "url": url,
                "industries": industries,
                "funnel_stage": stage,
                "objection_categories": objections,
                "owner": marketer,
            },
        )
        collateral.append(item)

    new_leads = _create_missing_leads(leads, seed=seed)
    if new_leads:
        _build_history(new_leads, seed=seed, now=now, queues=queues, campaigns=campaigns, collateral=collateral)
        # Scores and breakdowns come from the rules above, exactly as in production; leads
        # that now qualify are moved to MQL by a task once this commits (and then handed off
        # by the worker), which is what a marketer sees on the first `make run`.
        leads_rescore_all(qualify=True)
        _loyalty_members(campaigns, now=now)
    for segment in segments.values():
        count = segment_member_count(segment.definition)
        Segment.objects.filter(pk=segment.pk).update(member_count=count, counted_at=now)
        SegmentVersion.objects.filter(segment=segment, version=segment.version).update(member_count=count)
    return demo_counts()


def _loyalty_members(campaigns, *, now) -> None:
    """Customers join the loyalty club in one bulk insert."""
    loyalty = next(c for c in campaigns if c.kind == CampaignKind.LOYALTY)
    customers = Lead.objects.filter(stage=S.CUSTOMER).values_list("pk", "stage_changed_at")
    CampaignMember.objects.bulk_create(
        [
            CampaignMember(campaign=loyalty, lead_id=pk, added_at=max(at or now, now - datetime.timedelta(days=10)))
            for pk, at in customers
        ],
        ignore_conflicts=True,
    )


def _create_missing_leads(n: int, *, seed: int) -> list[Lead]:
    existing = Lead.objects.filter(email__startswith=EMAIL_PREFIX).count()
    if existing >= n:
        return []
    first_new_id = (Lead.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    generate_leads(n - existing, seed=seed, start=existing, email_prefix=EMAIL_PREFIX)
    return list(Lead.objects.filter(id__gte=first_new_id, email__startswith=EMAIL_PREFIX).order_by("id"))


def _index_of(lead: Lead) -> int:
    return int(lead.email[len(EMAIL_PREFIX) :].split(".", 1)[0])


def _queue_for(lead: Lead, queues):
    if (lead.employees or 0) >= 1000:
        return queues[0]
    if lead.industry in ("software", "finance") and 50 <= (lead.employees or 0) <= 5000 and lead.country != "US":
        return queues[1]
    return queues[2]


def _build_history(new_leads: list[Lead], *, seed: int, now, queues, campaigns, collateral) -> None:
    h = _History()
    accounts: dict[str, Account] = {a.domain: a for a in Account.objects.all()}
    for lead in new_leads:
        index = _index_of(lead)
        rng = random.Random(seed * 7_919 + index)
        positive = lead_values(index, seed=seed, now=now, email_prefix=EMAIL_PREFIX)["outcome_positive"]
        created = lead.created_at
        span = max((now - created).total_seconds(), 3600)

        for _ in range(rng.choice((0, 1, 1, 2, 3, 4, 6))):
            at = created + datetime.timedelta(seconds=rng.uniform(0, span))
            h.events.append(EngagementEvent(lead=lead, kind=rng.choice(EVENT_KINDS), occurred_at=at))
        for campaign in rng.sample(campaigns[:4], k=rng.choice((0, 0, 1, 1, 2))):
            added = created + datetime.timedelta(seconds=rng.uniform(0, span / 3))
            responded = rng.random() < 0.35
            h.members.append(
                CampaignMember(
                    campaign=campaign,
                    lead=lead,
                    added_at=added,
                    status=MemberStatus.RESPONDED if responded else MemberStatus.SENT,
                    responded_at=added + datetime.timedelta(days=rng.uniform(0, 5)) if responded else None,
                )
            )

        fate = rng.random()
        if lead.do_not_contact:
            if fate < 0.5:
                h.move(lead, S.DISQUALIFIED, created + datetime.timedelta(hours=2), reason="do_not_contact")
            h.lead_updates.append(lead)
            continue
        if fate < 0.30:
            h.lead_updates.append(lead)
            continue
        engaged_at = _clamp(created + datetime.timedelta(days=rng.uniform(0, 3)), now)
        h.move(lead, S.ENGAGED, engaged_at, reason="engagement")
        if fate < 0.55 or lead.do_not_call:
            h.lead_updates.append(lead)
            continue
        qualified_at = _clamp(engaged_at + datetime.timedelta(days=rng.uniform(0.5, 20)), now)
        h.move(lead, S.MQL, qualified_at, reason="score_threshold")
        if fate < 0.58:
            h.lead_updates.append(lead)  # waits for the hand-off sweep when the worker starts
            continue
        _sales_history(
            h,
            lead,
            rng=rng,
            fate=fate,
            positive=positive,
            qualified_at=qualified_at,
            now=now,
            queues=queues,
            accounts=accounts,
            collateral=collateral,
        )
        h.lead_updates.append(lead)
    _write(h, collateral=collateral, now=now)


def _sales_history(
    h: _History, lead: Lead, *, rng, fate, positive, qualified_at, now, queues, accounts, collateral
) -> None:
    queue, members = _queue_for(lead, queues)
    rep = members[_index_of(lead) % len(members)]
    handed = _clamp(qualified_at + datetime.timedelta(milliseconds=rng.uniform(40, 900)), now)
    sla_due = handed + datetime.timedelta(minutes=queue.sla_minutes)
    h.move(lead, S.HANDED_OFF, handed, reason="handed_off")
    lead.owner = rep
    assignment = Assignment(
        lead=lead,
        queue=queue,
        rep=rep,
        status=AssignmentStatus.ASSIGNED,
        handed_off_at=handed,
        assigned_at=handed,
        sla_due_at=sla_due,
    )
    h.assignments.append(assignment)
    in_progress = fate < 0.70
    touch_minutes = rng.lognormvariate(3.2, 1.1)
    first_touch = handed + datetime.timedelta(minutes=touch_minutes)
    if in_progress and (first_touch >= now or (now - handed < datetime.timedelta(hours=36) and rng.random() < 0.6)):
        return  # fresh, not called yet: it heads the rep's call list (the SLA job watches it)

    first_touch = _clamp(first_touch, now)
    assignment.first_touch_at = first_touch
    if first_touch > sla_due:
        h.breaches.append((assignment, sla_due))

    def call(at, outcome, duration, objection=False):
        c = Call(
            rep=rep,
            lead=lead,
            assignment=assignment,
            outcome=outcome,
            duration_seconds=duration,
            called_at=_clamp(at, now),
        )
        notes = []
        if objection:
            category = rng.choice(list(ObjectionCategory))
            said, response = OBJECTION_LINES[category]
            useful = [item for item in collateral if category in item.objection_categories]
            notes.append(
                {
                    "category": category,
                    "said": said,
                    "response": response,
                    "overcome": rng.random() < 0.55,
                    "collateral": rng.choice(useful) if useful and rng.random() < 0.6 else None,
                }
            )
        h.calls.append((c, notes))
        return c

    if fate < 0.70:  # in progress: some calls, maybe accepted, a callback due
        outcome = rng.choice(
            (CallOutcome.NO_ANSWER, CallOutcome.LEFT_VOICEMAIL, CallOutcome.CONNECTED, CallOutcome.CALLBACK_REQUESTED)
        )
        last = call(
            first_touch,
            outcome,
            0 if outcome in (CallOutcome.NO_ANSWER,) else rng.randrange(30, 600),
            objection=outcome == CallOutcome.CONNECTED and rng.random() < 0.4,
        )
        if outcome in (CallOutcome.CONNECTED, CallOutcome.CALLBACK_REQUESTED):
            accepted = _clamp(first_touch + datetime.timedelta(minutes=rng.uniform(2, 240)), now)
            assignment.status, assignment.accepted_at = AssignmentStatus.ACCEPTED, accepted
            h.move(lead, S.SAL, accepted, actor=rep, reason="accepted", outcome=LeadOutcome.ACCEPTED)
        if outcome == CallOutcome.CALLBACK_REQUESTED or rng.random() < 0.3:
            due = now + datetime.timedelta(hours=rng.uniform(-30, 72))
            h.follow_ups.append(
                FollowUp(
                    rep=rep,
                    lead=lead,
                    call=last,
                    due_at=due,
                    kind=FollowUpKind.CALLBACK if outcome == CallOutcome.CALLBACK_REQUESTED else FollowUpKind.FOLLOW_UP,
                )
            )
        return
    if fate < 0.78:  # rejected by sales
        call(first_touch, CallOutcome.CONNECTED, rng.randrange(60, 400), objection=rng.random() < 0.5)
        reason = rng.choice([r for r in RejectReason if r not in (RejectReason.NO_CONTACT, RejectReason.OTHER)])
        at = _clamp(first_touch + datetime.timedelta(minutes=rng.uniform(5, 600)), now)
        assignment.status, assignment.rejected_at, assignment.rejected_reason = AssignmentStatus.REJECTED, at, reason
        h.move(
            lead,
            S.RECYCLED,
            at,
            actor=rep,
            reason=f"{REASON_REJECTED_PREFIX}{reason}",
            outcome=LeadOutcome.REJECTED,
            outcome_reason=reason,
        )
        lead.owner = None
        return
    if fate < 0.82:  # no contact after the cadence
        at = first_touch
        for _attempt in range(queue.max_attempts):
            call(at, rng.choice((CallOutcome.NO_ANSWER, CallOutcome.LEFT_VOICEMAIL)), rng.randrange(0, 40))
            at += datetime.timedelta(hours=rng.uniform(4, 48))
        at = _clamp(at, now)
        assignment.status, assignment.closed_at = AssignmentStatus.CLOSED, at
        h.move(lead, S.RECYCLED, at, actor=rep, reason=REASON_NO_CONTACT, outcome=LeadOutcome.NO_CONTACT)
        lead.owner = None
        return
    # Opportunity: accepted, converted to a deal, then won / lost / still open.
    call(first_touch, CallOutcome.CONNECTED, rng.randrange(120, 900), objection=rng.random() < 0.6)
    accepted = _clamp(first_touch + datetime.timedelta(minutes=rng.uniform(2, 120)), now)
    assignment.status, assignment.accepted_at = AssignmentStatus.ACCEPTED, accepted
    h.move(lead, S.SAL, accepted, actor=rep, reason="accepted", outcome=LeadOutcome.ACCEPTED)
    meeting = _clamp(accepted + datetime.timedelta(days=rng.uniform(0.5, 5)), now)
    call(meeting, CallOutcome.MEETING_BOOKED, rng.randrange(300, 1800), objection=rng.random() < 0.5)
    converted = _clamp(meeting + datetime.timedelta(days=rng.uniform(0.1, 3)), now)
    h.move(lead, S.OPPORTUNITY, converted, actor=rep, reason="converted")
    if lead.company_domain not in accounts:
        accounts[lead.company_domain] = Account(
            name=lead.company,
            domain=lead.company_domain,
            industry=lead.industry,
            employees=lead.employees,
            country=lead.country,
            owner=rep,
        )
    close_at = converted + datetime.timedelta(days=rng.uniform(5, 45))
    outcome = "open" if close_at >= now else ("won" if positive or rng.random() < 0.2 else "lost")
    deal = {
        "rep": rep,
        "account": accounts[lead.company_domain],
        "created_at": converted,
        "assignment": assignment,
        "amount": Decimal(int(rng.lognormvariate(8.8, 0.7))),
        "outcome": outcome,
        "stages": [DealStage.QUALIFICATION, DealStage.DISCOVERY, DealStage.PROPOSAL][: rng.randrange(1, 4)],
        "closed_at": close_at,
        "lost_reason": rng.choice(list(LostReason)),
    }
    h.deals.append((lead, deal))
    if outcome == "won":
        h.move(lead, S.CUSTOMER, close_at, actor=rep, reason=REASON_WON, outcome=LeadOutcome.WON)
        assignment.status, assignment.closed_at = AssignmentStatus.CLOSED, close_at
    elif outcome == "lost":
        h.move(
            lead,
            S.RECYCLED,
            close_at,
            actor=rep,
            reason=f"{REASON_LOST_PREFIX}{deal['lost_reason']}",
            outcome=LeadOutcome.LOST,
            outcome_reason=deal["lost_reason"],
        )
        assignment.status, assignment.closed_at = AssignmentStatus.CLOSED, close_at
        lead.owner = None


def _write(h: _History, *, collateral, now) -> None:
    Lead.objects.bulk_update(h.lead_updates, ["stage", "stage_changed_at", "qualified_at", "owner"], batch_size=2000)
    LeadTransition.objects.bulk_create(h.transitions, batch_size=5000)
    EngagementEvent.objects.bulk_create(h.events, batch_size=5000)
    lead_engagement_refresh(lead_ids={event.lead_id for event in h.events})
    CampaignMember.objects.bulk_create(h.members, batch_size=5000, ignore_conflicts=True)
    Assignment.objects.bulk_create(h.assignments, batch_size=5000)
    SlaBreach.objects.bulk_create(
        [
            SlaBreach(assignment=a, breached_at=at, action=SlaAction.ESCALATE, escalated_to=a.queue.manager)
            for a, at in h.breaches
        ],
        batch_size=5000,
    )
    for assignment, at in h.breaches:
        assignment.sla_breached_at = at
    Assignment.objects.bulk_update([a for a, _ in h.breaches], ["sla_breached_at"], batch_size=2000)
    Call.objects.bulk_create([c for c, _ in h.calls], batch_size=5000)
    ObjectionNote.objects.bulk_create(
        [ObjectionNote(call=c, lead=c.lead, created_at=c.called_at, **note) for c, notes in h.calls for note in notes],
        batch_size=5000,
    )
    FollowUp.objects.bulk_create(h.follow_ups, batch_size=5000)
    new_accounts = [a for a in {id(a): a for _, d in h.deals for a in [d["account"]]}.values() if a.pk is None]
    Account.objects.bulk_create(new_accounts, batch_size=2000)
    contacts = [
        Contact(
            account=d["account"],
            lead=lead,
            first_name=lead.first_name,
            last_name=lead.last_name,
            email=lead.email,
            phone=lead.phone,
            title=lead.title,
        )
        for lead, d in h.deals
    ]
    Contact.objects.bulk_create(contacts, batch_size=2000)
    deals, changes, shares, feedback = [], [], [], []
    for (lead, d), contact in zip(h.deals, contacts, strict=True):
        stage = {"won": DealStage.WON, "lost": DealStage.LOST}.get(d["outcome"], d["stages"][-1])
        deal = Deal(
            name=f"{lead.company} – Baton",
            account=d["account"],
            contact=contact,
            lead=lead,
            owner=d["rep"],
            stage=stage,
            amount=d["amount"],
            created_at=d["created_at"],
            expected_close_on=d["closed_at"].date(),
            closed_at=d["closed_at"] if d["outcome"] != "open" else None,
            lost_reason=d["lost_reason"] if d["outcome"] == "lost" else "",
        )
        deals.append(deal)
        at, previous = d["created_at"], ""
        for step in [*d["stages"], *([stage] if d["outcome"] != "open" else [])]:
            changes.append(DealStageChange(deal=deal, from_stage=previous, to_stage=step, actor=d["rep"], at=at))
            previous, at = step, at + (d["closed_at"] - d["created_at"]) / 4
        item = collateral[lead.pk % len(collateral)]
        shares.append(CollateralShare(collateral=item, lead=lead, shared_by=d["rep"], shared_at=d["created_at"]))
        if d["outcome"] == "won" and lead.pk % 3:
            feedback.append(
                CustomerFeedback(
                    lead=lead,
                    rating=(lead.pk * 7) % 5 + 6,
                    source=FeedbackSource.SURVEY,
                    comment="Hand-off was quick and the rep knew our context.",
                    created_at=_clamp(d["closed_at"] + datetime.timedelta(days=14), now),
                )
            )
    Deal.objects.bulk_create(deals, batch_size=2000)
    DealStageChange.objects.bulk_create(changes, batch_size=5000)
    Account.objects.filter(deals__stage=DealStage.WON).update(is_customer=True)
    CollateralShare.objects.bulk_create(shares, batch_size=2000)
    CollateralView.objects.bulk_create(
        [
            CollateralView(share=s, viewed_at=_clamp(s.shared_at + datetime.timedelta(hours=3), now))
            for s in shares[::2]
        ],
        batch_size=2000,
    )
    CustomerFeedback.objects.bulk_create(feedback, batch_size=2000)


def demo_counts() -> dict[str, int]:
    return {
        "users": get_user_model().objects.count(),
        "leads": Lead.objects.count(),
        "transitions": LeadTransition.objects.count(),
        "events": EngagementEvent.objects.count(),
        "segments": Segment.objects.count(),
        "rules": ScoringRule.objects.count(),
        "queues": SalesQueue.objects.count(),
        "assignments": Assignment.objects.count(),
        "calls": Call.objects.count(),
        "objections": ObjectionNote.objects.count(),
        "deals": Deal.objects.count(),
        "accounts": Account.objects.count(),
        "campaigns": Campaign.objects.count(),
        "campaign_members": CampaignMember.objects.count(),
        "collateral": Collateral.objects.count(),
        "feedback": CustomerFeedback.objects.count(),
    }
