"""The reports' own rows: rollups rebuilt by beat so a report need not read every lead."""

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
