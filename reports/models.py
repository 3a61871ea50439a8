"""The reports' own rows: rollups rebuilt by beat so a report need not read every lead."""

from django.conf import settings
from django.db import models


class FunnelRollup(models.Model):
    """Leads per day of creation (in the time zone named by the run), source and furthest
    funnel stage reached (0 = new ... 6 = customer, the order of ``reports.selectors.funnel.FUNNEL``).
    The funnel report sums these rows instead of reading every lead of the period. Rebuilt whole
    by ``funnel_rollup_refresh`` (beat); ``ReportRollupRun`` says when."""

    day = models.DateField()
    source = models.CharField(max_length=20)
    furthest = models.PositiveSmallIntegerField()
    leads = models.PositiveIntegerField()

    class Meta:
        db_table = "crm_funnelrollup"  # created by crm's migrations before the reports app existed
        constraints = [models.UniqueConstraint(fields=["day", "source", "furthest"], name="funnel_rollup_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.source} stage {self.furthest}: {self.leads}"


class ReportRollupRun(models.Model):
    """When a report rollup was last rebuilt, in which time zone its days are, how long it took."""

    name = models.CharField(max_length=40, unique=True)
    refreshed_at = models.DateTimeField()
    time_zone = models.CharField(max_length=64)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "crm_reportrolluprun"

    def __str__(self) -> str:
        return f"{self.name} at {self.refreshed_at:%Y-%m-%d %H:%M}"


class SalesAgreement(models.Model):
    """The marketing-sales agreement of one queue for one month: marketing's MQL target and
    sales' follow-up promise (first touch within N business hours of the hand-off, M call
    attempts before a lead goes back to marketing for no contact). Edited by managers and
    marketers on ``/agreement/``; the page sets the delivered figures beside it."""

    queue = models.ForeignKey("crm.SalesQueue", on_delete=models.CASCADE, related_name="agreements")
    month = models.DateField(help_text="The first day of the month.")
    mql_target = models.PositiveIntegerField(help_text="MQLs marketing promises to hand to this queue in the month.")
    first_touch_hours = models.PositiveIntegerField(
        help_text="Sales' promise: first touch within this many business hours."
    )
    attempts_before_recycle = models.PositiveIntegerField(
        help_text="Sales' promise: at least this many call attempts before a lead goes back for no contact."
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-month", "queue"]
        constraints = [
            models.UniqueConstraint(fields=["queue", "month"], name="agreement_queue_month_unique"),
            models.CheckConstraint(condition=models.Q(month__day=1), name="agreement_month_first_day"),
            models.CheckConstraint(condition=models.Q(first_touch_hours__gt=0), name="agreement_first_touch_positive"),
            models.CheckConstraint(
                condition=models.Q(attempts_before_recycle__gt=0), name="agreement_attempts_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.queue} {self.month:%Y-%m}"
