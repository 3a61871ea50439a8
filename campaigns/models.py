"""Marketing programs and the collateral library."""

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from config.text_limits import NOTE_MAX_LENGTH


class ObjectionCategory(models.TextChoices):
    """The fixed objection taxonomy. It lives here because collateral is tagged with the
    objections it answers, and `campaigns` must not import `crm`; `crm` uses it from here."""

    PRICE = "price", "Price"
    TIMING = "timing", "Timing"
    COMPETITOR = "competitor", "Competitor"
    AUTHORITY = "authority", "Authority"
    NEED = "need", "Need"
    TRUST = "trust", "Trust"
    PRODUCT_FIT = "product_fit", "Product fit"
    OTHER = "other", "Other"


class CampaignKind(models.TextChoices):
    EMAIL = "email", "Email"
    WEBINAR = "webinar", "Webinar"
    EVENT = "event", "Event"
    PAID_ADS = "paid_ads", "Paid ads"
    CONTENT = "content", "Content"
    REFERRAL = "referral", "Referral"
    LOYALTY = "loyalty", "Loyalty program"
    SURVEY = "survey", "Customer survey"


CUSTOMER_CAMPAIGN_KINDS = (CampaignKind.LOYALTY, CampaignKind.SURVEY)


class CampaignStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class CampaignQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=CampaignStatus.ACTIVE)


class Campaign(models.Model):
    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=CampaignKind.choices)
    status = models.CharField(max_length=20, choices=CampaignStatus.choices, default=CampaignStatus.PLANNED)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    budget = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    actual_cost = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="campaigns"
    )
    target_segment = models.ForeignKey(
        "leads.Segment", null=True, blank=True, on_delete=models.SET_NULL, related_name="campaigns"
    )
    goal = models.TextField(blank=True, max_length=NOTE_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(budget__gte=0), name="campaign_budget_non_negative"),
            models.CheckConstraint(condition=Q(actual_cost__gte=0), name="campaign_cost_non_negative"),
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True) | Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="campaign_ends_after_start",
            ),
            models.CheckConstraint(condition=Q(kind__in=CampaignKind.values), name="campaign_kind_valid"),
            models.CheckConstraint(condition=Q(status__in=CampaignStatus.values), name="campaign_status_valid"),
        ]

    def __str__(self) -> str:
        return self.name


class MemberStatus(models.TextChoices):
    TARGETED = "targeted", "Targeted"
    SENT = "sent", "Sent"
    RESPONDED = "responded", "Responded"
    CONVERTED = "converted", "Converted"


class CampaignMember(models.Model):
    # No separate FK indexes: campaign_member_unique (campaign, lead) and member_lead_added_idx
    # (lead, added_at) lead with these columns, and every index slows the set-based add.
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="members", db_index=False)
    lead = models.ForeignKey(
        "leads.Lead", on_delete=models.CASCADE, related_name="campaign_memberships", db_index=False
    )
    status = models.CharField(max_length=20, choices=MemberStatus.choices, default=MemberStatus.TARGETED)
    added_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-added_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "lead"], name="campaign_member_unique"),
            models.CheckConstraint(condition=Q(status__in=MemberStatus.values), name="member_status_valid"),
        ]
        indexes = [models.Index(fields=["lead", "added_at"], name="member_lead_added_idx")]

    def __str__(self) -> str:
        return f"{self.lead_id} in {self.campaign_id} ({self.status})"


class CollateralKind(models.TextChoices):
    CASE_STUDY = "case_study", "Case study"
    BROCHURE = "brochure", "Brochure"
    PRICE_SHEET = "price_sheet", "Price sheet"
    BATTLECARD = "battlecard", "Battlecard"
    PRESENTATION = "presentation", "Presentation"
    VIDEO = "video", "Video"
    WEB_PAGE = "web_page", "Web page"


class FunnelStage(models.TextChoices):
    AWARENESS = "awareness", "Awareness"
    CONSIDERATION = "consideration", "Consideration"
    DECISION = "decision", "Decision"
    RETENTION = "retention", "Retention"


class CollateralQuerySet(models.QuerySet):
    def current(self, today=None):
        """Items a rep may share: not archived, not expired."""
        from django.utils import timezone

        today = today or timezone.localdate()
        return self.filter(is_archived=False).filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today))

    def shareable(self, today=None):
        """Current items that have something to hand out: a file version or an external URL."""
        return self.current(today).filter(Q(current_version__isnull=False) | ~Q(url=""))

    def expired(self, today=None):
        from django.utils import timezone

        return self.filter(expires_on__lt=today or timezone.localdate())


class Collateral(models.Model):
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=CollateralKind.choices)
    url = models.URLField(
        max_length=500, blank=True, help_text="An external URL; leave empty when the item is an uploaded file."
    )
    industries = models.JSONField(default=list, blank=True, help_text="Industries the item speaks to.")
    products = models.JSONField(default=list, blank=True)
    funnel_stage = models.CharField(max_length=20, choices=FunnelStage.choices, blank=True)
    objection_categories = models.JSONField(
        default=list, blank=True, help_text="Objection categories the item answers."
    )
    approved_segments = models.ManyToManyField("leads.Segment", blank=True, related_name="approved_collateral")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="collateral"
    )
    expires_on = models.DateField(null=True, blank=True)
    is_archived = models.BooleanField(default=False)
    current_version = models.ForeignKey(
        "CollateralVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The file reps get; older versions are kept.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CollateralQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "collateral"
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=CollateralKind.values), name="collateral_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.title

    def is_expired(self, today=None) -> bool:
        from django.utils import timezone

        return self.expires_on is not None and self.expires_on < (today or timezone.localdate())


def collateral_upload_to(instance: "CollateralVersion", filename: str) -> str:
    return f"collateral/{instance.collateral_id}/{secrets.token_hex(8)}/{filename}"


class CollateralVersion(models.Model):
    collateral = models.ForeignKey(Collateral, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    file = models.FileField(upload_to=collateral_upload_to, max_length=300)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["collateral", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["collateral", "number"], name="collateral_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.collateral} v{self.number}"


def new_share_token() -> str:
    return secrets.token_urlsafe(24)


class CollateralShare(models.Model):
    """A rep sent an item to a lead: the tracked link `/c/<token>/`."""

    collateral = models.ForeignKey(Collateral, on_delete=models.CASCADE, related_name="shares")
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="collateral_shares")
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="collateral_shares"
    )
    token = models.CharField(max_length=64, unique=True, default=new_share_token, editable=False)
    shared_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-shared_at", "-id"]
        indexes = [
            models.Index(fields=["lead", "shared_at"], name="share_lead_at_idx"),
            models.Index(fields=["collateral", "shared_at"], name="share_collateral_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.collateral} to lead {self.lead_id}"


class CollateralView(models.Model):
    share = models.ForeignKey(CollateralShare, on_delete=models.CASCADE, related_name="views")
    viewed_at = models.DateTimeField()
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-viewed_at", "-id"]
        indexes = [models.Index(fields=["share", "viewed_at"], name="view_share_at_idx")]

    def __str__(self) -> str:
        return f"view of share {self.share_id} at {self.viewed_at:%Y-%m-%d %H:%M}"


class FeedbackSource(models.TextChoices):
    SURVEY = "survey", "Survey link"
    REP = "rep", "Entered by a rep"


class CustomerFeedback(models.Model):
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="feedback")
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="feedback")
    rating = models.PositiveSmallIntegerField(validators=[MinValueValidator(0), MaxValueValidator(10)])
    comment = models.TextField(blank=True, max_length=NOTE_MAX_LENGTH)
    source = models.CharField(max_length=10, choices=FeedbackSource.choices)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "customer feedback"
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=0, rating__lte=10), name="feedback_rating_0_10"),
            # One answer per survey invitation: a survey link submitted twice is refused.
            models.UniqueConstraint(
                fields=["campaign", "lead"],
                condition=Q(source="survey", campaign__isnull=False),
                name="feedback_one_survey_answer",
            ),
        ]
        indexes = [models.Index(fields=["created_at"], name="feedback_created_idx")]

    def __str__(self) -> str:
        return f"{self.rating}/10 from lead {self.lead_id}"


class SavedLeadView(models.Model):
    """A marketer's saved filters and sort of the lead list (/marketing/leads/)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_lead_views")
    name = models.CharField(max_length=100)
    query = models.CharField(max_length=2000, help_text="The list's query string (filters and sort).")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="saved_lead_view_unique_name")]

    def __str__(self) -> str:
        return self.name
