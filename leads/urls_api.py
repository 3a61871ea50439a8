from rest_framework.routers import SimpleRouter

from . import apis

router = SimpleRouter()
router.register("leads", apis.LeadViewSet, basename="lead")
router.register("segments", apis.SegmentViewSet, basename="segment")
urlpatterns = router.urls
