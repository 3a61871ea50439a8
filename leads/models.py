"""Marketing's data: leads, their history, engagement, segments and scoring."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Lower, Replace
from django.utils import timezone as dj_timezone

from config.text_limits import LONG_TEXT_MAX_LENGTH, NOTE_MAX_LENGTH


class LifecycleStage(models.TextChoices):
    NEW = "new", "New"
    ENGAGED = "engaged", "Engaged"
    MQL = "mql", "Marketing qualified (MQL)"
    HANDED_OFF = "handed_off", "Handed off to sales"
    SAL = "sal", "Sales accepted (SAL)"
    OPPORTUNITY = "opportunity", "Opportunity"
    CUSTOMER = "customer", "Customer"
    RECYCLED = "recycled", "Recycled to marketing"
    DISQUALIFIED = "disqualified", "Disqualified"


class LeadOutcome(models.TextChoices):
    """What sales reported about a lead, typed: set on the transition that carries it."""

    ACCEPTED = "accepted", "Accepted by sales"
    REJECTED = "rejected", "Rejected by sales"
    NO_CONTACT = "no_contact", "No contact after the cadence"
    WON = "won", "Won"
    LOST = "lost", "Lost"


# The stage each outcome moves a lead to (a check constraint on LeadTransition keeps it so).
OUTCOME_STAGE = {
    LeadOutcome.ACCEPTED: LifecycleStage.SAL,
    LeadOutcome.REJECTED: LifecycleStage.RECYCLED,
    LeadOutcome.NO_CONTACT: LifecycleStage.RECYCLED,
    LeadOutcome.WON: LifecycleStage.CUSTOMER,
    LeadOutcome.LOST: LifecycleStage.RECYCLED,
}


MARKETING_STAGES = (
    LifecycleStage.NEW,
    LifecycleStage.ENGAGED,
    LifecycleStage.MQL,
    LifecycleStage.RECYCLED,
)
SALES_STAGES = (
    LifecycleStage.HANDED_OFF,
    LifecycleStage.SAL,
    LifecycleStage.OPPORTUNITY,
    LifecycleStage.CUSTOMER,
)


class LeadSource(models.TextChoices):
    WEB_FORM = "web_form", "Web form"
    IMPORT = "import", "Import"
    EVENT = "event", "Event"
    REFERRAL = "referral", "Referral"
    PAID_ADS = "paid_ads", "Paid ads"
    PARTNER = "partner", "Partner"
    OUTBOUND = "outbound", "Outbound list"
    API = "api", "API"
    OTHER = "other", "Other"


# Characters a phone number is written with besides its digits: phone_digits drops them, so
# "+49 (30) 1234-56" and "4930123456" match the same fragment. Portable (nested REPLACE, no
# regular expression), so the column is the same on SQLite and PostgreSQL.
PHONE_FORMATTING = (" ", "-", "(", ")", "+", ".", "/")


def phone_digits_expression(field: str = "phone"):
    expression = models.F(field)
    for char in PHONE_FORMATTING:
        expression = Replace(expression, Value(char), Value(""))
    return expression


def phone_digits(text: str) -> str:
    """The same normalisation as the phone_digits column, in Python (for search terms)."""
    for char in PHONE_FORMATTING:
        text = text.replace(char, "")
    return text


class LeadQuerySet(models.QuerySet):
    def qualified(self):
        """Marketing qualified leads waiting for the hand-off."""
        return self.filter(stage=LifecycleStage.MQL)

    def contactable(self):
        return self.filter(do_not_contact=False)

    def callable(self):
        return self.filter(do_not_contact=False, do_not_call=False)

    def with_sales(self):
        return self.filter(stage__in=SALES_STAGES)

    def in_marketing(self):
        return self.filter(stage__in=MARKETING_STAGES)

    def customers(self):
        return self.filter(stage=LifecycleStage.CUSTOMER)


class EngagementKind(models.TextChoices):
    PAGE_VIEW = "page_view", "Page view"
    EMAIL_OPEN = "email_open", "Email opened"
    EMAIL_CLICK = "email_click", "Email clicked"
    FORM_SUBMIT = "form_submit", "Form submitted"
    WEBINAR = "webinar", "Webinar attended"
    COLLATERAL_VIEW = "collateral_view", "Collateral viewed"
    EVENT_ATTENDED = "event_attended", "Event attended"
    CAMPAIGN_RESPONSE = "campaign_response", "Campaign response"


# The Lead column holding the latest event of each kind (``last_engaged_at`` for any kind).
LAST_EVENT_AT = {kind: f"last_{kind}_at" for kind in EngagementKind.values}
LAST_EVENT_ANY = "last_engaged_at"


# The fields that describe a lead's person and company, in the order pages, exports, the merge
# and the demo data list them (each adds its own id, consent and score columns around them).
LEAD_PROFILE_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "title",
    "company",
    "company_domain",
    "industry",
    "employees",
    "country",
    "timezone",
    "source",
)


class Lead(models.Model):
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(max_length=254, help_text="Unique, compared case-insensitively.")
    phone = models.CharField(max_length=40, blank=True)
    title = models.CharField("job title", max_length=150, blank=True)
    company = models.CharField(max_length=200, blank=True)
    company_domain = models.CharField(
        max_length=253, blank=True, help_text="The company's web domain, lower case, e.g. acme.com."
    )
    industry = models.CharField(max_length=100, blank=True)
    employees = models.PositiveIntegerField(null=True, blank=True, help_text="Company headcount.")
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2 code, e.g. DE.")
    timezone = models.CharField(
        max_length=64, default="UTC", help_text="IANA time zone of the lead, used for calling hours."
    )
    source = models.CharField(max_length=20, choices=LeadSource.choices, default=LeadSource.OTHER)
    custom_attributes = models.JSONField(
        default=dict, blank=True, help_text="Free-form attributes (a JSON object) that segments and rules can use."
    )

    email_opt_in = models.BooleanField(default=False, help_text="The lead agreed to marketing email.")
    do_not_call = models.BooleanField(default=False, help_text="Never call this lead; never handed off.")
    do_not_contact = models.BooleanField(
        default=False, help_text="No contact of any kind; never qualified or handed off."
    )
    do_not_profile = models.BooleanField(
        default=False, help_text="Profiling withdrawn: the learned model does not score this lead."
    )
    erased_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When a manager erased the person (personal data removed)."
    )

    stage = models.CharField(
        max_length=20,
        choices=LifecycleStage.choices,
        default=LifecycleStage.NEW,
        help_text="Changed only through the lifecycle service, which records every move.",
    )
    stage_changed_at = models.DateTimeField(null=True, blank=True)
    fit_score = models.IntegerField(default=0, help_text="Points from fit rules (who they are).")
    engagement_score = models.FloatField(default=0, help_text="Decayed points from engagement events.")
    learned_score = models.FloatField(
        null=True, blank=True, help_text="Conversion probability from the active learned model, 0-1."
    )
    score = models.FloatField(default=0, help_text="The score compared with the qualification threshold.")
    score_breakdown = models.JSONField(
        default=list, blank=True, help_text="Which rule gave how many points, as stored at the last scoring."
    )
    scored_at = models.DateTimeField(null=True, blank=True)
    # Per engagement rule (by id) its uncapped decayed sum as of scored_at, and "n" the
    # rejections counted: exponential decay is separable, so the daily job moves these forward
    # by 0.5 ** (days / half-life) instead of re-reading the events (leads.scoring). NULL
    # (rows bulk-copied in, never scored) reads as nothing to decay.
    engagement_raw = models.JSONField(default=dict, null=True, blank=True, editable=False)
    qualified_at = models.DateTimeField(null=True, blank=True, help_text="When the lead last became an MQL.")
    # The latest engagement event, of any kind and of each kind: max(occurred_at) of the lead's
    # events, kept so by leads.services (engagement_record moves them forward; lead_engagement_
    # refresh recomputes them after bulk writes, edits and deletes). A segment condition "at least
    # one webinar in the last 14 days" is then last_webinar_at >= now - 14 days: a range scan of
    # a small partial index instead of joining the matching events with a million leads.
    last_engaged_at = models.DateTimeField(null=True, blank=True, help_text="The latest engagement event.")
    last_page_view_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_email_open_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_email_click_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_form_submit_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_webinar_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_collateral_view_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_event_attended_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_campaign_response_at = models.DateTimeField(null=True, blank=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_leads",
        help_text="The rep who holds the lead while it is with sales.",
    )
    created_at = models.DateTimeField(
        default=dj_timezone.now, help_text="When the lead entered Baton (imports may carry an earlier date)."
    )
    updated_at = models.DateTimeField(auto_now=True)
    # Search columns, kept by the database: "first last" lower-cased, and the phone without its
    # formatting. On PostgreSQL migration 0012 adds trigram (pg_trgm) GIN indexes on them and on
    # lower(company) / company_domain, and a prefix index on lower(email); they are not in
    # Meta.indexes because SQLite has neither GIN nor operator classes.
    search_name = models.GeneratedField(
        expression=Lower(Concat("first_name", Value(" "), "last_name")),
        output_field=models.CharField(max_length=201),
        db_persist=True,
    )
    phone_digits = models.GeneratedField(
        expression=phone_digits_expression(),
        output_field=models.CharField(max_length=40),
        db_persist=True,
    )

    objects = LeadQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="lead_email_ci_unique"),
            models.CheckConstraint(condition=~Q(email=""), name="lead_email_not_blank"),
            models.CheckConstraint(condition=Q(stage__in=LifecycleStage.values), name="lead_stage_valid"),
            models.CheckConstraint(
                condition=Q(learned_score__isnull=True) | Q(learned_score__gte=0, learned_score__lte=1),
                name="lead_learned_score_probability",
            ),
        ]
        indexes = [
            models.Index(fields=["stage", "-score"], name="lead_stage_score_idx"),
            models.Index(fields=["company_domain"], name="lead_company_domain_idx"),
            models.Index(fields=["owner", "stage"], name="lead_owner_stage_idx"),
            models.Index(fields=["qualified_at"], name="lead_qualified_at_idx"),
            # Covering: the reports count a period's leads by week and stage (and sample them
            # by id) from this index alone, without reading the wide lead rows.
            models.Index(fields=["created_at"], include=["id", "stage"], name="lead_created_cover_idx"),
            # The scoring calibration report reads the score of the period's handed-off leads:
            # merged in id order from this index, not hashed out of the whole lead table.
            models.Index(fields=["id"], include=["score"], name="lead_id_score_idx"),
            # The scoring what-if reads every lead's scores, stage, consent and creation date:
            # from this index alone (index-only once vacuumed), not from the wide lead rows.
            models.Index(
                fields=["score"],
                include=[
                    "id",
                    "fit_score",
                    "engagement_score",
                    "learned_score",
                    "stage",
                    "do_not_contact",
                    "created_at",
                ],
                name="lead_whatif_cover_idx",
            ),
            # Segment counts on a million leads: the common firmographic filters are answered
            # from these (index-only once vacuumed) instead of a scan of the whole table.
            models.Index(fields=["industry", "employees"], name="lead_industry_employees_idx"),
            models.Index(fields=["country", "industry"], name="lead_country_industry_idx"),
            models.Index(fields=["employees", "industry"], name="lead_employees_industry_idx"),
            # The hand-off's drain and sweep walk MQLs in primary-key order, a batch at a time;
            # MQLs are a sliver of the table, so this stays small.
            models.Index(fields=["id"], condition=Q(stage="mql"), name="lead_mql_id_idx"),
            # Engagement segment conditions with count 1 (see last_engaged_at). Partial: a lead
            # that never engaged in a kind is not in that kind's index at all.
            *(
                models.Index(
                    fields=[field],
                    name=f"lead_{field.removeprefix('last_')}_idx",
                    condition=Q(**{f"{field}__isnull": False}),
                )
                for field in ("last_engaged_at", *LAST_EVENT_AT.values())
            ),
            # The rep's call list hash-joins the rep's callable leads with their open
            # assignments: with the id, time zone and score in the index that side is read
            # index-only, however the rep's leads are spread over the table.
            models.Index(
                fields=["owner"],
                include=["id", "timezone", "score"],
                condition=Q(owner__isnull=False, do_not_call=False, do_not_contact=False),
                name="lead_owner_callable_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>" if self.full_name else self.email

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def contact_allowed(self) -> bool:
        return not self.do_not_contact


class LeadTransition(models.Model):
    """One stage change of a lead: the history every report and timeline is rebuilt from."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="transitions")
    from_stage = models.CharField(max_length=20, choices=LifecycleStage.choices)
    to_stage = models.CharField(max_length=20, choices=LifecycleStage.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=64, blank=True, help_text="A machine-readable reason code.")
    outcome = models.CharField(
        max_length=20,
        choices=LeadOutcome.choices,
        blank=True,
        default="",
        db_default="",
        help_text="The sales outcome this move carries (accepted, rejected, no contact, won, lost); blank for none.",
    )
    outcome_reason = models.CharField(
        max_length=64,
        blank=True,
        default="",
        db_default="",
        help_text="Why, for a rejected or lost outcome (the rejection or lost reason code).",
    )
    note = models.TextField(blank=True, max_length=NOTE_MAX_LENGTH)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["lead", "at"], name="transition_lead_at_idx"),
            models.Index(fields=["to_stage", "at"], name="transition_to_at_idx"),
            models.Index(fields=["outcome", "at"], name="transition_outcome_at_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome="")
                | Q(outcome=LeadOutcome.ACCEPTED, to_stage=LifecycleStage.SAL)
                | Q(outcome=LeadOutcome.WON, to_stage=LifecycleStage.CUSTOMER)
                | Q(
                    outcome__in=[LeadOutcome.REJECTED, LeadOutcome.NO_CONTACT, LeadOutcome.LOST],
                    to_stage=LifecycleStage.RECYCLED,
                ),
                name="transition_outcome_matches_stage",
            ),
            models.CheckConstraint(
                condition=Q(outcome_reason="") | Q(outcome__in=[LeadOutcome.REJECTED, LeadOutcome.LOST]),
                name="transition_outcome_reason_needs_outcome",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.from_stage} -> {self.to_stage}"


class EngagementEvent(models.Model):
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30, choices=EngagementKind.choices)
    occurred_at = models.DateTimeField()
    points = models.FloatField(
        null=True, blank=True, help_text="Base points the engagement rule gave when the event arrived."
    )
    source_reference = models.CharField(
        max_length=200,
        blank=True,
        help_text="Where the event came from (campaign, page, share token); repeats are ignored.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["lead", "kind", "source_reference"],
                condition=~Q(source_reference=""),
                name="event_unique_source_reference",
            ),
            models.CheckConstraint(condition=Q(kind__in=EngagementKind.values), name="event_kind_valid"),
        ]
        indexes = [
            models.Index(fields=["lead", "kind", "occurred_at"], name="event_lead_kind_at_idx"),
            models.Index(fields=["kind", "occurred_at"], name="event_kind_at_idx"),
            # Engagement segment conditions ("a webinar in the last 14 days") read only this
            # index: the lead ids come from it without visiting the events table.
            models.Index(fields=["kind", "occurred_at", "lead"], name="event_kind_at_lead_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} by lead {self.lead_id} at {self.occurred_at:%Y-%m-%d %H:%M}"


ANY_KIND = "any"
LATEST_ENGAGEMENT_DEPTH = 10


class LatestEngagement(models.Model):
    """When a lead's n-th latest engagement event of a kind happened (kind "any": of all kinds),
    for n = 2..LATEST_ENGAGEMENT_DEPTH; the latest (n = 1) is the lead's ``last_<kind>_at``.

    "At least N events of kind K since T" holds exactly when the N-th latest is at or after T,
    so an engagement segment condition is one indexed test whatever the window, and nothing
    expires as time passes. Rebuilt from the events by leads.services for every lead whose
    events change (engagement_record, lead_engagement_refresh); never edited by hand.
    """

    # No index of its own: the unique constraint starts with the lead.
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=30)
    nth = models.PositiveSmallIntegerField()
    occurred_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["lead", "kind", "nth"], name="latest_engagement_unique"),
            models.CheckConstraint(
                condition=Q(kind__in=[*EngagementKind.values, ANY_KIND]), name="latest_engagement_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(nth__gte=2, nth__lte=LATEST_ENGAGEMENT_DEPTH), name="latest_engagement_nth_range"
            ),
        ]
        indexes = [
            # The segment condition reads only this index: (kind, n, since..) -> lead ids.
            models.Index(fields=["kind", "nth", "occurred_at", "lead"], name="latest_engagement_kind_nth_idx"),
        ]

    def __str__(self) -> str:
        return f"lead {self.lead_id}: {self.kind} #{self.nth} at {self.occurred_at:%Y-%m-%d %H:%M}"


class Segment(models.Model):
    """A prospect definition: a JSON rule tree compiled to one SQL query."""

    name = models.CharField(max_length=150, unique=True)
    description = models.TextField(blank=True, max_length=NOTE_MAX_LENGTH)
    definition = models.JSONField(
        default=dict,
        help_text='A rule tree: {"all": [...]}, {"any": [...]}, {"not": {...}} of conditions '
        '{"field": ..., "op": ..., "value": ...}.',
    )
    is_icp = models.BooleanField(
        "ideal customer profile", default=False, help_text="The one segment that feeds fit scoring."
    )
    version = models.PositiveIntegerField(default=1)
    member_count = models.PositiveIntegerField(null=True, blank=True, help_text="Members at the last count.")
    counted_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["is_icp"], condition=Q(is_icp=True), name="segment_single_icp"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (ICP)" if self.is_icp else self.name


class SegmentVersion(models.Model):
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    definition = models.JSONField()
    member_count = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["segment", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["segment", "version"], name="segment_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.segment} v{self.version}"


class RuleKind(models.TextChoices):
    FIT = "fit", "Fit (who they are)"
    ENGAGEMENT = "engagement", "Engagement (what they did)"


class ScoringRule(models.Model):
    """A fit rule (field / operator / value -> points, or membership of a segment such as the
    ICP) or an engagement rule (event kind -> points per event, capped, decaying)."""

    name = models.CharField(max_length=150)
    kind = models.CharField(max_length=20, choices=RuleKind.choices)
    field = models.CharField(max_length=100, blank=True, help_text="Fit rules: the lead field or attr.<name>.")
    operator = models.CharField(max_length=20, blank=True, help_text="Fit rules: eq, in, contains, gte, ...")
    value = models.JSONField(null=True, blank=True, help_text="Fit rules: the value compared against.")
    segment = models.ForeignKey(
        Segment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="scoring_rules",
        help_text="Fit rules: points for membership of this segment (e.g. the ICP) instead of a field.",
    )
    points = models.IntegerField(default=0, help_text="Fit rules: points when the rule holds (may be negative).")
    event_kind = models.CharField(max_length=30, choices=EngagementKind.choices, blank=True)
    points_per_event = models.FloatField(default=0, help_text="Engagement rules: points for each event.")
    cap = models.FloatField(null=True, blank=True, help_text="Engagement rules: the most points this rule gives.")
    half_life_days = models.FloatField(
        null=True, blank=True, help_text="Engagement rules: days after which an event is worth half."
    )
    is_active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=RuleKind.values), name="rule_kind_valid"),
            models.CheckConstraint(condition=Q(cap__isnull=True) | Q(cap__gte=0), name="rule_cap_non_negative"),
            models.CheckConstraint(
                condition=Q(half_life_days__isnull=True) | Q(half_life_days__gt=0),
                name="rule_half_life_positive",
            ),
            models.CheckConstraint(
                condition=~Q(kind=RuleKind.ENGAGEMENT) | ~Q(event_kind=""),
                name="rule_engagement_has_event_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class LearnedScoreMode(models.TextChoices):
    OFF = "off", "Rules only"
    BESIDE = "beside", "Shown beside the rule score"
    BLEND = "blend", "Blended into the score"


class ScoringPolicy(models.Model):
    """The single scoring policy row (pk 1)."""

    threshold = models.FloatField(default=50, help_text="Score at or above which a lead qualifies (MQL).")
    fit_minimum = models.IntegerField(default=10, help_text="Fit points a lead needs, whatever its engagement.")
    default_half_life_days = models.FloatField(
        default=30, help_text="Half-life of engagement points for rules that do not set their own."
    )
    rejection_penalty = models.FloatField(
        default=0, help_text="Points taken off a lead's engagement when sales rejects it."
    )
    learned_mode = models.CharField(max_length=10, choices=LearnedScoreMode.choices, default=LearnedScoreMode.OFF)
    learned_weight = models.FloatField(
        default=0, help_text="In blend mode: points added per unit of learned probability (0-1)."
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "scoring policy"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="scoring_policy_singleton"),
            models.CheckConstraint(condition=Q(default_half_life_days__gt=0), name="policy_half_life_positive"),
            models.CheckConstraint(condition=Q(threshold__gte=0), name="policy_threshold_non_negative"),
        ]

    def __str__(self) -> str:
        return f"Threshold {self.threshold:g}, fit minimum {self.fit_minimum}"

    @classmethod
    def current(cls) -> "ScoringPolicy":
        policy, _ = cls.objects.get_or_create(pk=1)
        return policy


class DailyRescore(models.Model):
    """The single row (pk 1) of the daily re-score: when it last ran and the rules it ran with
    (``leads.scoring.leads_rescore_daily``)."""

    last_run_at = models.DateTimeField()
    rules_fingerprint = models.CharField(max_length=64)
    full = models.BooleanField(default=False, help_text="The last run re-scored every lead.")
    rescored = models.PositiveIntegerField(default=0, help_text="Leads re-scored from their events.")
    decayed = models.PositiveIntegerField(default=0, help_text="Leads moved forward by decay alone.")

    class Meta:
        verbose_name_plural = "daily re-score"
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="daily_rescore_singleton")]

    def __str__(self) -> str:
        return f"Daily re-score at {self.last_run_at:%Y-%m-%d %H:%M}"


class RescoreStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a worker"
    RUNNING = "running", "Re-scoring"
    DONE = "done", "Done"
    SUPERSEDED = "superseded", "Stopped: a newer version took over"
    FAILED = "failed", "Failed"


class RuleSetVersion(models.Model):
    """One saved version of the whole rule set: the active rules and the policy (threshold, fit
    minimum, half-life, ...) as they were saved, who saved it, what changed and why. Written
    only by ``leads.rule_sets`` (save, restore); the background re-score reports its progress
    here."""

    number = models.PositiveIntegerField(unique=True)
    rules = models.JSONField(help_text="The active rules of this version, as saved.")
    policy = models.JSONField(help_text="Threshold, fit minimum, half-life, penalty, learned mode and weight.")
    changes = models.JSONField(default=list, blank=True, help_text="What changed from the version before.")
    note = models.TextField(blank=True, max_length=NOTE_MAX_LENGTH)
    restored_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="Restored version."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=dj_timezone.now)
    rescore_status = models.CharField(max_length=12, choices=RescoreStatus.choices, default=RescoreStatus.PENDING)
    rescore_total = models.PositiveIntegerField(default=0)
    rescore_done = models.PositiveIntegerField(default=0)
    rescore_started_at = models.DateTimeField(null=True, blank=True)
    rescore_finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.CheckConstraint(condition=Q(rescore_status__in=RescoreStatus.values), name="ruleset_rescore_valid"),
        ]

    def __str__(self) -> str:
        return f"Rule set v{self.number}"

    @property
    def rescore_percent(self) -> int:
        if self.rescore_status == RescoreStatus.DONE:
            return 100
        return min(99, int(100 * self.rescore_done / self.rescore_total)) if self.rescore_total else 0


class DuplicateReason(models.TextChoices):
    PHONE = "phone", "Same phone number"
    NAME_DOMAIN = "name_domain", "Same name at the same company domain"


class DuplicatePair(models.Model):
    """Two leads that look like one person, found by ``leads.duplicates`` (on capture, on
    import and nightly); ``lead_a`` is always the lower id. The same e-mail (any case) cannot
    be two leads: capture and import update the lead that has it."""

    lead_a = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    lead_b = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+", db_index=False)
    reason = models.CharField(max_length=20, choices=DuplicateReason.choices)
    found_at = models.DateTimeField()
    dismissed = models.BooleanField(default=False, help_text="A marketer said these are different people.")

    class Meta:
        ordering = ["-found_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["lead_a", "lead_b", "reason"], name="duplicate_pair_unique"),
            models.CheckConstraint(condition=Q(lead_a__lt=F("lead_b")), name="duplicate_pair_ordered"),
            models.CheckConstraint(condition=Q(reason__in=DuplicateReason.values), name="duplicate_reason_valid"),
        ]
        indexes = [models.Index(fields=["lead_b"], name="duplicate_lead_b_idx")]

    def __str__(self) -> str:
        return f"{self.lead_a_id} ~ {self.lead_b_id} ({self.reason})"


class CaptureForm(models.Model):
    """A public web form that creates or updates leads: ``POST /capture/<key>/``."""

    key = models.SlugField(max_length=64, unique=True, help_text="The public key in the form's URL.")
    name = models.CharField(max_length=150)
    redirect_url = models.URLField(
        max_length=500, blank=True, help_text="Where a browser goes after submitting; empty answers with JSON."
    )
    is_active = models.BooleanField(default=True)
    consent_text = models.TextField(
        blank=True,
        max_length=LONG_TEXT_MAX_LENGTH,
        help_text="The consent wording shown next to the form's opt-in boxes; kept as the evidence of each consent.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"


class ImportStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a worker"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class LeadImport(models.Model):
    """One CSV import (or dry run) started from the upload page; the worker reports progress here."""

    file = models.FileField(upload_to="imports/")
    original_name = models.CharField(max_length=255)
    dry_run = models.BooleanField(default=True)
    update_existing = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.PENDING)
    size_bytes = models.PositiveBigIntegerField(default=0)
    bytes_read = models.PositiveBigIntegerField(default=0)
    rows_read = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(
        default=list, blank=True, help_text="Per-row errors {row, column, reason}, the first ones (see error_count)."
    )
    error_count = models.PositiveIntegerField(default=0)
    failure = models.TextField(blank=True, help_text="Why the whole file was refused, if it was.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ImportStatus.values), name="import_status_valid"),
        ]

    def __str__(self) -> str:
        return f"Import {self.pk}: {self.original_name}"

    @property
    def percent(self) -> int:
        if self.status == ImportStatus.DONE:
            return 100
        return min(99, int(100 * self.bytes_read / self.size_bytes)) if self.size_bytes else 0


class ConsentPurpose(models.TextChoices):
    CALLS = "calls", "Calls"
    EMAIL_MARKETING = "email_marketing", "E-mail marketing"
    PROFILING = "profiling", "Profiling for scoring"


class ConsentSource(models.TextChoices):
    FORM = "form", "Web form"
    IMPORT = "import", "Import"
    REP = "rep", "Sales rep"
    MARKETER = "marketer", "Marketer"
    API = "api", "API"
    UNSUBSCRIBE = "unsubscribe", "Unsubscribe link"


class ConsentRecord(models.Model):
    """One grant or withdrawal of consent by a person for one purpose. Append-only: the latest
    record per purpose decides, and the lead's flags (email_opt_in, do_not_call, do_not_contact,
    do_not_profile) are derived from them by ``leads.consent``."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=20, choices=ConsentPurpose.choices)
    granted = models.BooleanField(help_text="True: consent given; False: withdrawn or refused.")
    source = models.CharField(max_length=20, choices=ConsentSource.choices)
    recorded_at = models.DateTimeField(default=dj_timezone.now)
    evidence = models.TextField(
        blank=True, max_length=LONG_TEXT_MAX_LENGTH, help_text="What the person agreed to or how they withdrew."
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-recorded_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(purpose__in=ConsentPurpose.values), name="consent_purpose_valid"),
            models.CheckConstraint(condition=Q(source__in=ConsentSource.values), name="consent_source_valid"),
        ]
        indexes = [models.Index(fields=["lead", "purpose", "-recorded_at", "-id"], name="consent_latest_idx")]

    def __str__(self) -> str:
        verb = "granted" if self.granted else "withdrawn"
        return f"{self.get_purpose_display()} {verb} ({self.get_source_display()})"


class SearchWord(models.Model):
    """Every distinct lower-case word of the leads' first names, last names and companies: the
    search's spelling vocabulary. A misspelt word is corrected to its nearest word here (a
    trigram KNN over a few thousand rows) before the leads are searched, instead of comparing
    the misspelling with a million leads. On PostgreSQL triggers (migration 0016) keep it
    filled; words of deleted leads stay (a correction that finds nothing costs nothing)."""

    word = models.CharField(max_length=200, primary_key=True)

    def __str__(self) -> str:
        return self.word


class LeadMerge(models.Model):
    """One merge of a duplicate lead into the lead kept (``leads.merging.lead_merge``): who, when,
    which lead went into which, the field choices and how many rows of each kind moved. The
    merged lead itself is deleted once everything it had points at the survivor."""

    survivor = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="merges")
    merged_lead_id = models.BigIntegerField(help_text="The id the merged (deleted) lead had.")
    merged_email = models.EmailField(max_length=254)
    merged_stage = models.CharField(max_length=20, choices=LifecycleStage.choices)
    merged_values = models.JSONField(default=dict, help_text="The merged lead's field values, as they were.")
    choices = models.JSONField(default=dict, help_text="Per differing field, which lead's value was kept.")
    moved = models.JSONField(default=dict, help_text="Rows moved to the survivor, per kind.")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"Lead {self.merged_lead_id} merged into {self.survivor_id}"
