from django.urls import path
from rest_framework.routers import SimpleRouter

from . import consents, leads, scoring

router = SimpleRouter()
router.register("leads", leads.LeadViewSet, basename="lead")
router.register("segments", leads.SegmentViewSet, basename="segment")
router.register("scoring/versions", scoring.RuleSetVersionViewSet, basename="rule-set-version")
urlpatterns = [
    path("events/", leads.EngagementEventsApi.as_view(), name="events"),
    path("leads/<int:lead_id>/consents/", consents.LeadConsentsApi.as_view(), name="lead-consents"),
    path("scoring/rule-set/", scoring.RuleSetApi.as_view(), name="rule-set"),
    *router.urls,
]
