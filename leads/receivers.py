"""Receivers of the leads app. Connected on import from LeadsConfig.ready()."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import ScoringPolicy, ScoringRule, Segment
from .scoring import rescore_all_on_commit


@receiver(post_save, sender=ScoringRule, dispatch_uid="leads.rescore_on_rule_save")
@receiver(post_delete, sender=ScoringRule, dispatch_uid="leads.rescore_on_rule_delete")
def rescore_on_rule_change(sender, instance, raw=False, **kwargs):
    # Any save or delete, from the admin, the API or a shell, re-scores every lead after commit.
    if not raw:
        rescore_all_on_commit()


@receiver(post_save, sender=ScoringPolicy, dispatch_uid="leads.rescore_on_policy_save")
def rescore_on_policy_change(sender, instance, created=False, raw=False, **kwargs):
    # The default row appearing on first use changes nothing that is already stored.
    if not raw and not created:
        rescore_all_on_commit()


@receiver(post_save, sender=Segment, dispatch_uid="leads.rescore_on_scoring_segment_save")
def rescore_on_scoring_segment_change(sender, instance, raw=False, **kwargs):
    # A segment that fit rules score on (the ICP) changes those rules' meaning.
    if not raw and ScoringRule.objects.filter(segment=instance, is_active=True).exists():
        rescore_all_on_commit()
