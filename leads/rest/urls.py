from django.urls import path
from rest_framework.routers import SimpleRouter

from . import consents, leads

router = SimpleRouter()
router.register("leads", leads.LeadViewSet, basename="lead")
router.register("segments", leads.SegmentViewSet, basename="segment")
urlpatterns = [
    path("events/", leads.EngagementEventsApi.as_view(), name="events"),
    path("leads/<int:lead_id>/consents/", consents.LeadConsentsApi.as_view(), name="lead-consents"),
    *router.urls,
]
