from django.urls import path
from rest_framework.routers import SimpleRouter

from . import apis

router = SimpleRouter()
router.register("leads", apis.LeadViewSet, basename="lead")
router.register("segments", apis.SegmentViewSet, basename="segment")
urlpatterns = [
    path("events/", apis.EngagementEventsApi.as_view(), name="events"),
    *router.urls,
]
