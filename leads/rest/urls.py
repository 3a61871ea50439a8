from django.urls import path
from rest_framework.routers import SimpleRouter

from . import leads

router = SimpleRouter()
router.register("leads", leads.LeadViewSet, basename="lead")
router.register("segments", leads.SegmentViewSet, basename="segment")
urlpatterns = [
    path("events/", leads.EngagementEventsApi.as_view(), name="events"),
    *router.urls,
]
