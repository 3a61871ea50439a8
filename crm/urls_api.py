from rest_framework.routers import SimpleRouter

from . import apis

router = SimpleRouter()
router.register("assignments", apis.AssignmentViewSet, basename="assignment")
urlpatterns = router.urls
