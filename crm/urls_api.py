from django.urls import path
from rest_framework.routers import SimpleRouter

from . import apis, reports_api

router = SimpleRouter()
router.register("assignments", apis.AssignmentViewSet, basename="assignment")
router.register("queues", apis.SalesQueueViewSet, basename="queue")
urlpatterns = router.urls
urlpatterns += [path("reports/<str:name>/", reports_api.ReportApi.as_view(), name="report-api")]
