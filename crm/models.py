"""Sales' data: queues, hand-off assignments, calls, objections, accounts, contacts, deals."""

import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from campaigns.api import ObjectionCategory
from config.text_limits import NOTE_MAX_LENGTH


class RoutingStrategy(models.TextChoices):
    ROUND_ROBIN = "round_robin", "Round robin"
    LEAST_LOADED = "least_loaded", "Least loaded"


class SlaAction(models.TextChoices):
    REASSIGN = "reassign", "Reassign to the next rep"
    ESCALATE = "escalate", "Escalate to the queue's manager"


def default_business_days() -> list[int]:
    return [0, 1, 2, 3, 4]


class SalesQueueQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def by_priority(self):
        return self.order_by("priority", "id")


class SalesQueue(models.Model):
    """A team's inbox: which leads it takes (a segment), who works it and how fast."""

    name = models.CharField(max_length=150, unique=True)
    segment = models.ForeignKey(
        "leads.Segment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sales_queues",
        help_text="Routing criteria: leads in this segment come here. Empty takes any lead (a catch-all).",
    )
    priority = models.PositiveIntegerField(default=100, help_text="Lower runs first when queues overlap.")
    strategy = models.CharField(max_length=20, choices=RoutingStrategy.choices, default=RoutingStrategy.ROUND_ROBIN)
    sla_minutes = models.PositiveIntegerField(default=60, help_text="First-touch SLA in business minutes.")
    business_hours_start = models.TimeField(default=datetime.time(9, 0))
    business_hours_end = models.TimeField(default=datetime.time(17, 0))
    business_days = models.JSONField(default=default_business_days, help_text="Weekdays worked, 0 = Monday.")
    timezone = models.CharField(max_length=64, default="UTC", help_text="IANA time zone of the business hours.")
    sla_action = models.CharField(max_length=20, choices=SlaAction.choices, default=SlaAction.REASSIGN)
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_queues",
        help_text="Receives escalations.",
    )
    max_attempts = models.PositiveIntegerField(
        default=6, help_text="Unanswered calls after which the lead goes back to marketing (no contact)."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SalesQueueQuerySet.as_manager()

    class Meta:
        ordering = ["priority", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(sla_minutes__gt=0), name="queue_sla_positive"),
            models.CheckConstraint(
                condition=Q(business_hours_end__gt=models.F("business_hours_start")),
                name="queue_business_hours_order",
            ),
            models.CheckConstraint(condition=Q(max_attempts__gt=0), name="queue_max_attempts_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class QueueMembershipQuerySet(models.QuerySet):
    def available(self, today=None):
        from django.utils import timezone

        today = today or timezone.localdate()
        return self.filter(is_active=True).filter(Q(away_until__isnull=True) | Q(away_until__lt=today))


class QueueMembership(models.Model):
    queue = models.ForeignKey(SalesQueue, on_delete=models.CASCADE, related_name="memberships")
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="queue_memberships")
    capacity = models.PositiveIntegerField(default=25, help_text="Most open assignments this rep holds from the queue.")
    is_active = models.BooleanField(default=True)
    away_until = models.DateField(null=True, blank=True, help_text="Away (no new leads) up to and including this day.")
    last_assigned_at = models.DateTimeField(null=True, blank=True, help_text="Round-robin cursor.")

    objects = QueueMembershipQuerySet.as_manager()

    class Meta:
        ordering = ["queue", "rep"]
        constraints = [models.UniqueConstraint(fields=["queue", "rep"], name="queue_membership_unique")]

    def __str__(self) -> str:
        return f"{self.rep} in {self.queue}"


class AssignmentStatus(models.TextChoices):
    QUEUED = "queued", "Waiting in queue (no rep has room)"
    ASSIGNED = "assigned", "Assigned to a rep"
    ACCEPTED = "accepted", "Accepted (SAL)"
    REJECTED = "rejected", "Rejected"
    REASSIGNED = "reassigned", "Reassigned"
    CLOSED = "closed", "Closed"


ACTIVE_ASSIGNMENT_STATUSES = (AssignmentStatus.QUEUED, AssignmentStatus.ASSIGNED, AssignmentStatus.ACCEPTED)
OPEN_FOR_REP_STATUSES = (AssignmentStatus.ASSIGNED, AssignmentStatus.ACCEPTED)


class RejectReason(models.TextChoices):
    NOT_A_FIT = "not_a_fit", "Not a fit"
    BAD_DATA = "bad_data", "Bad data"
    DUPLICATE = "duplicate", "Duplicate"
    NO_BUDGET = "no_budget", "No budget"
    COMPETITOR = "competitor", "Competitor"
    ALREADY_CUSTOMER = "already_customer", "Already a customer"
    NO_CONTACT = "no_contact", "No contact after the cadence"
    OTHER = "other", "Other"


class AssignmentQuerySet(models.QuerySet):
    def active(self):
        """At most one per lead (a partial unique constraint enforces it)."""
        return self.filter(status__in=ACTIVE_ASSIGNMENT_STATUSES)

    def open_for_rep(self, rep):
        return self.filter(rep=rep, status__in=OPEN_FOR_REP_STATUSES)

    def overdue(self, now):
        return self.filter(
            status__in=OPEN_FOR_REP_STATUSES,
            first_touch_at__isnull=True,
            sla_due_at__lt=now,
            sla_breached_at__isnull=True,
        )


class Assignment(models.Model):
    """One hand-off of a lead into a queue and, when someone has room, to a rep."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="assignments")
    queue = models.ForeignKey(SalesQueue, on_delete=models.PROTECT, related_name="assignments")
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="assignments"
    )
    status = models.CharField(max_length=20, choices=AssignmentStatus.choices, default=AssignmentStatus.QUEUED)
    handed_off_at = models.DateTimeField(help_text="When the hand-off ran (not when it was enqueued).")
    assigned_at = models.DateTimeField(null=True, blank=True)
    sla_due_at = models.DateTimeField(null=True, blank=True, help_text="First touch due, in business hours.")
    accepted_at = models.DateTimeField(null=True, blank=True)
    first_touch_at = models.DateTimeField(null=True, blank=True, help_text="The first call: speed-to-lead ends here.")
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejected_reason = models.CharField(max_length=30, choices=RejectReason.choices, blank=True)
    rejected_note = models.TextField(blank=True, max_length=NOTE_MAX_LENGTH)
    sla_breached_at = models.DateTimeField(null=True, blank=True)
    sla_warned_at = models.DateTimeField(
        null=True, blank=True, help_text="When the rep was warned that the first-touch SLA is running out."
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.CharField(
        max_length=30, blank=True, default="", db_default="", help_text="Why it was closed, e.g. merged (a duplicate)."
    )
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="Reassigned from."
    )

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["-handed_off_at", "-id"]
        permissions = [("view_reports", "Can view the manager reports")]
        constraints = [
            models.UniqueConstraint(
                fields=["lead"],
                condition=Q(status__in=ACTIVE_ASSIGNMENT_STATUSES),
                name="assignment_one_active_per_lead",
            ),
            models.CheckConstraint(condition=Q(status__in=AssignmentStatus.values), name="assignment_status_valid"),
            models.CheckConstraint(
                condition=~Q(status=AssignmentStatus.REJECTED) | ~Q(rejected_reason=""),
                name="assignment_rejection_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(status=AssignmentStatus.QUEUED)
                | Q(rep__isnull=False)
                | Q(status__in=[AssignmentStatus.CLOSED, AssignmentStatus.REASSIGNED]),
                name="assignment_rep_unless_queued",
            ),
        ]
        indexes = [
            models.Index(fields=["rep", "status"], name="assignment_rep_status_idx"),
            models.Index(fields=["queue", "status", "handed_off_at"], name="assignment_queue_status_idx"),
            models.Index(fields=["status", "sla_due_at"], name="assignment_status_sla_idx"),
            # The call list ranks a rep's open assignments on these columns alone: read
            # index-only (the other side of lead_owner_callable_idx's hash join).
            models.Index(
                fields=["rep"],
                include=["id", "lead", "first_touch_at", "sla_due_at", "handed_off_at"],
                condition=Q(status__in=OPEN_FOR_REP_STATUSES),
                name="assignment_rep_open_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Lead {self.lead_id} -> {self.rep or self.queue} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_ASSIGNMENT_STATUSES


class SlaBreach(models.Model):
    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="sla_breach")
    breached_at = models.DateTimeField()
    action = models.CharField(max_length=20, choices=SlaAction.choices)
    new_assignment = models.ForeignKey(Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-breached_at"]
        verbose_name = "SLA breach"
        verbose_name_plural = "SLA breaches"

    def __str__(self) -> str:
        return f"SLA breach of assignment {self.assignment_id}"


class Notification(models.Model):
    """An in-app notification for one user."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40)
    message = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    key = models.CharField(
        max_length=80,
        blank=True,
        default="",
        help_text="What it is about, e.g. 'sla_warning:<assignment id>': a keyed notification is sent once.",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_user_read_idx")]
        constraints = [
            models.UniqueConstraint(fields=["key"], condition=~Q(key=""), name="notification_key_once"),
        ]

    def __str__(self) -> str:
        return self.message


class EmailOutboxQuerySet(models.QuerySet):
    def unsent(self):
        return self.filter(sent_at__isnull=True)


class EmailOutbox(models.Model):
    """An e-mail to send, written in the transaction of the notification it carries.

    PostgreSQL is the record of truth: the row exists exactly when the notification does, and
    ``sent_at`` says whether it left. A Celery task only rings the bell after commit; a beat job
    re-rings for rows whose bell was lost (a publish can fail after the commit) and retries
    failed sends with backoff (``next_attempt_at``). One row per notification (unique), and
    the sender claims the row under ``FOR UPDATE SKIP LOCKED`` and re-checks ``sent_at``, so
    concurrent or repeated deliveries send it once.
    """

    notification = models.OneToOneField(Notification, on_delete=models.CASCADE, related_name="email_outbox")
    to_email = models.EmailField()
    subject = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField(help_text="Not retried before this time (backoff after a failure).")
    attempts = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    objects = EmailOutboxQuerySet.as_manager()

    class Meta:
        verbose_name = "e-mail outbox row"
        indexes = [
            # The resend job's scan: only unsent rows are indexed, so the index stays small.
            models.Index(fields=["next_attempt_at"], name="email_outbox_unsent_idx", condition=Q(sent_at__isnull=True))
        ]

    def __str__(self) -> str:
        return f"{self.to_email}: {self.subject}"


class HandoffRefusalReason(models.TextChoices):
    DO_NOT_CALL = "do_not_call", "Do not call"
    DO_NOT_CONTACT = "do_not_contact", "Do not contact"


class HandoffRefusal(models.Model):
    """A qualified lead the hand-off refused to pass to sales, and why. The lead stays an MQL;
    if the flag is lifted the sweep hands it off then."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="handoff_refusals")
    reason = models.CharField(max_length=30, choices=HandoffRefusalReason.choices)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [models.UniqueConstraint(fields=["lead", "reason"], name="handoff_refusal_unique")]

    def __str__(self) -> str:
        return f"Lead {self.lead_id} not handed off: {self.get_reason_display()}"


class Account(models.Model):
    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=253, blank=True, help_text="Web domain, lower case; unique when set.")
    industry = models.CharField(max_length=100, blank=True)
    employees = models.PositiveIntegerField(null=True, blank=True)
    country = models.CharField(max_length=2, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="accounts"
    )
    is_customer = models.BooleanField(default=False)
    next_check_in_on = models.DateField(null=True, blank=True, help_text="When the owner should call the customer.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("domain"), condition=~Q(domain=""), name="account_domain_ci_unique"),
        ]
        indexes = [models.Index(fields=["owner"], name="account_owner_idx")]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    lead = models.OneToOneField("leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="contact")
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    title = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email


class CallOutcome(models.TextChoices):
    CONNECTED = "connected", "Connected"
    LEFT_VOICEMAIL = "left_voicemail", "Left voicemail"
    NO_ANSWER = "no_answer", "No answer"
    WRONG_NUMBER = "wrong_number", "Wrong number"
    MEETING_BOOKED = "meeting_booked", "Meeting booked"
    NOT_INTERESTED = "not_interested", "Not interested"
    CALLBACK_REQUESTED = "callback_requested", "Callback requested"


UNANSWERED_OUTCOMES = (CallOutcome.LEFT_VOICEMAIL, CallOutcome.NO_ANSWER)
CONNECTED_OUTCOMES = (
    CallOutcome.CONNECTED,
    CallOutcome.MEETING_BOOKED,
    CallOutcome.NOT_INTERESTED,
    CallOutcome.CALLBACK_REQUESTED,
)


class Call(models.Model):
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="calls")
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="calls")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="calls")
    assignment = models.ForeignKey(Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls")
    outcome = models.CharField(max_length=30, choices=CallOutcome.choices)
    duration_seconds = models.PositiveIntegerField(default=0)
    notes = models.TextField(blank=True, max_length=NOTE_MAX_LENGTH)
    called_at = models.DateTimeField()
    next_step_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-called_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(lead__isnull=False) | Q(contact__isnull=False), name="call_has_lead_or_contact"
            ),
            models.CheckConstraint(condition=Q(outcome__in=CallOutcome.values), name="call_outcome_valid"),
        ]
        indexes = [
            models.Index(fields=["lead", "called_at"], name="call_lead_at_idx"),
            models.Index(fields=["rep", "called_at"], name="call_rep_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} by {self.rep} at {self.called_at:%Y-%m-%d %H:%M}"


class FollowUpKind(models.TextChoices):
    CALLBACK = "callback", "Callback requested"
    FOLLOW_UP = "follow_up", "Follow-up"
    CHECK_IN = "check_in", "Customer check-in"


class FollowUpQuerySet(models.QuerySet):
    def open(self):
        return self.filter(done_at__isnull=True)


class FollowUp(models.Model):
    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follow_ups")
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="follow_ups")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="follow_ups")
    call = models.ForeignKey(Call, null=True, blank=True, on_delete=models.SET_NULL, related_name="follow_ups")
    kind = models.CharField(max_length=20, choices=FollowUpKind.choices, default=FollowUpKind.FOLLOW_UP)
    due_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(lead__isnull=False) | Q(contact__isnull=False), name="follow_up_has_lead_or_contact"
            ),
        ]
        indexes = [models.Index(fields=["rep", "done_at", "due_at"], name="follow_up_rep_due_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} due {self.due_at:%Y-%m-%d %H:%M}"


class ObjectionNote(models.Model):
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="objections")
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="objections")
    category = models.CharField(max_length=20, choices=ObjectionCategory.choices)
    said = models.TextField("what was said", blank=True, max_length=NOTE_MAX_LENGTH)
    response = models.TextField("how it was answered", blank=True, max_length=NOTE_MAX_LENGTH)
    overcome = models.BooleanField(default=False)
    collateral = models.ForeignKey(
        "campaigns.Collateral", null=True, blank=True, on_delete=models.SET_NULL, related_name="objection_notes"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(category__in=ObjectionCategory.values), name="objection_category_valid"),
        ]
        indexes = [models.Index(fields=["category", "created_at"], name="objection_category_at_idx")]

    def __str__(self) -> str:
        return f"{self.get_category_display()} objection on call {self.call_id}"


class DealStage(models.TextChoices):
    QUALIFICATION = "qualification", "Qualification"
    DISCOVERY = "discovery", "Discovery"
    PROPOSAL = "proposal", "Proposal"
    NEGOTIATION = "negotiation", "Negotiation"
    WON = "won", "Closed won"
    LOST = "lost", "Closed lost"


OPEN_DEAL_STAGES = (DealStage.QUALIFICATION, DealStage.DISCOVERY, DealStage.PROPOSAL, DealStage.NEGOTIATION)
CLOSED_DEAL_STAGES = (DealStage.WON, DealStage.LOST)


class LostReason(models.TextChoices):
    PRICE = "price", "Price"
    TIMING = "timing", "Timing"
    COMPETITOR = "competitor", "Competitor"
    NO_DECISION = "no_decision", "No decision"
    PRODUCT_FIT = "product_fit", "Product fit"
    OTHER = "other", "Other"


class DealQuerySet(models.QuerySet):
    def open(self):
        return self.filter(stage__in=OPEN_DEAL_STAGES)

    def won(self):
        return self.filter(stage=DealStage.WON)


class Deal(models.Model):
    name = models.CharField(max_length=200)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="deals")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="deals")
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="deals")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="deals")
    stage = models.CharField(max_length=20, choices=DealStage.choices, default=DealStage.QUALIFICATION)
    amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="EUR")
    expected_close_on = models.DateField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    lost_reason = models.CharField(max_length=20, choices=LostReason.choices, blank=True)
    lost_note = models.TextField(blank=True, max_length=NOTE_MAX_LENGTH)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    objects = DealQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="deal_amount_non_negative"),
            models.CheckConstraint(condition=Q(stage__in=DealStage.values), name="deal_stage_valid"),
            models.CheckConstraint(
                condition=~Q(stage=DealStage.LOST) | ~Q(lost_reason=""), name="deal_lost_has_reason"
            ),
            models.CheckConstraint(
                condition=Q(stage__in=OPEN_DEAL_STAGES) | Q(closed_at__isnull=False), name="deal_closed_has_date"
            ),
        ]
        indexes = [
            models.Index(fields=["owner", "stage"], name="deal_owner_stage_idx"),
            models.Index(fields=["stage", "closed_at"], name="deal_stage_closed_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_closed(self) -> bool:
        return self.stage in CLOSED_DEAL_STAGES


# Win likelihood per stage when nobody has set one (the forecast's "weighted" figure).
DEFAULT_STAGE_PROBABILITY = {
    DealStage.QUALIFICATION: 10,
    DealStage.DISCOVERY: 25,
    DealStage.PROPOSAL: 50,
    DealStage.NEGOTIATION: 75,
    DealStage.WON: 100,
    DealStage.LOST: 0,
}
DEFAULT_COMMIT_STAGES = (DealStage.NEGOTIATION,)


class DealStageProbability(models.Model):
    """How likely a deal in this stage is to be won, and whether the stage counts as committed
    in the forecast. One row per stage (a data migration makes them); managers edit them."""

    stage = models.CharField(max_length=20, choices=DealStage.choices, unique=True)
    probability = models.PositiveSmallIntegerField(
        validators=[MaxValueValidator(100)],
        help_text="Per cent (0-100): the share of an open deal's amount the weighted forecast counts.",
    )
    is_commit = models.BooleanField(
        default=False, help_text="Open deals in this stage count as committed in the forecast (won deals always do)."
    )

    class Meta:
        ordering = ["id"]
        verbose_name = "deal stage probability"
        verbose_name_plural = "deal stage probabilities"
        constraints = [
            models.CheckConstraint(condition=Q(probability__lte=100), name="deal_stage_probability_max_100"),
            models.CheckConstraint(condition=Q(stage__in=DealStage.values), name="deal_stage_probability_stage_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()}: {self.probability} %"


class DealStageChange(models.Model):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=20, choices=DealStage.choices, blank=True)
    to_stage = models.CharField(max_length=20, choices=DealStage.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["deal", "at"], name="deal_change_deal_at_idx")]

    def __str__(self) -> str:
        return f"{self.deal_id}: {self.from_stage} -> {self.to_stage}"
