"""Admin list filters over a lead's segment, campaign and furthest stage, for the changelists
the reports drill down to (leads, their transitions, crm's assignments). Each filter reaches
the lead through ``lead_path`` ("" on the lead itself, "lead" from a row pointing at one), so
a report's number and its drill-down select the same rows."""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import Exists, OuterRef, Q

from .models import Lead, LeadTransition, LifecycleStage, Segment
from .segments import segment_member_q

# The funnel's stages in order (reports' funnel counts "reached this stage or a later one").
FUNNEL_STAGES = (
    LifecycleStage.NEW,
    LifecycleStage.ENGAGED,
    LifecycleStage.MQL,
    LifecycleStage.HANDED_OFF,
    LifecycleStage.SAL,
    LifecycleStage.OPPORTUNITY,
    LifecycleStage.CUSTOMER,
)


def _lead_ids(lead_path: str, q: Q) -> Q:
    if not lead_path:
        return q
    return Q(**{f"{lead_path}__in": Lead.objects.filter(q).values("pk")})


class _LeadFilter(admin.SimpleListFilter):
    lead_path = ""

    def _pk(self) -> int:
        try:
            return int(self.value())
        except (TypeError, ValueError) as exc:
            raise IncorrectLookupParameters(f"{self.title}: choose one from the list.") from exc

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return queryset.filter(_lead_ids(self.lead_path, self.lead_q()))


class LeadSegmentFilter(_LeadFilter):
    title = "segment (lead)"
    parameter_name = "lead_segment"

    def lookups(self, request, model_admin):
        return [(s.pk, s.name) for s in Segment.objects.order_by("name").only("pk", "name")]

    def lead_q(self) -> Q:
        segment = Segment.objects.filter(pk=self._pk()).first()
        if segment is None:
            raise IncorrectLookupParameters("That segment no longer exists.")
        return segment_member_q(segment)


class LeadCampaignFilter(_LeadFilter):
    title = "campaign (lead)"
    parameter_name = "lead_campaign"

    def lookups(self, request, model_admin):
        # campaigns sits above leads: its model is looked up by name, not imported
        campaign = apps.get_model("campaigns", "Campaign")
        return [(c.pk, c.name) for c in campaign.objects.order_by("name").only("pk", "name")]

    def lead_q(self) -> Q:
        return Q(campaign_memberships__campaign_id=self._pk())


class LeadReachedFilter(_LeadFilter):
    """Leads that reached a funnel stage or a later one, now or before being sent back."""

    title = "reached stage (or later)"
    parameter_name = "reached"

    def lookups(self, request, model_admin):
        return [(stage.value, stage.label) for stage in FUNNEL_STAGES[1:]]

    def lead_q(self) -> Q:
        stages = [s.value for s in FUNNEL_STAGES]
        if self.value() not in stages:
            raise IncorrectLookupParameters("reached: choose a stage from the list.")
        later = stages[stages.index(self.value()) :]
        moved = LeadTransition.objects.filter(lead=OuterRef("pk"), to_stage__in=later)
        return Q(stage__in=later) | Q(Exists(moved))


def lead_list_filters(lead_path: str = "") -> list[type[admin.SimpleListFilter]]:
    """The segment and campaign filters for a changelist reaching the lead through ``lead_path``."""
    if not lead_path:
        return [LeadSegmentFilter, LeadCampaignFilter]
    return [
        type(f"{cls.__name__}Via{lead_path.title()}", (cls,), {"lead_path": lead_path})
        for cls in (LeadSegmentFilter, LeadCampaignFilter)
    ]
