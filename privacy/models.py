from django.conf import settings
from django.db import models


class ErasureAudit(models.Model):
    """Who erased which lead and when: the only trace an erasure keeps, and it holds no personal
    data (the lead id points at the anonymised row; the counts say how many rows were changed)."""

    lead_id = models.BigIntegerField(help_text="The erased lead's id (its row stays, anonymised).")
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    erased_at = models.DateTimeField()
    reason = models.CharField(max_length=20, help_text="request (a manager) or retention (the beat job).")
    had_open_deal = models.BooleanField(default=False)
    rows_changed = models.JSONField(default=dict, help_text='Rows changed per kind, e.g. {"calls": 3}.')

    class Meta:
        ordering = ["-erased_at", "-id"]
        indexes = [models.Index(fields=["lead_id"], name="erasure_lead_idx")]

    def __str__(self) -> str:
        return f"Lead {self.lead_id} erased {self.erased_at:%Y-%m-%d %H:%M}"
