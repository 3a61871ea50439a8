from django.urls import path
from rest_framework.routers import SimpleRouter

from . import apis, apis_sales, reports_api

router = SimpleRouter()
router.register("assignments", apis.AssignmentViewSet, basename="assignment")
router.register("queues", apis.SalesQueueViewSet, basename="queue")
router.register("calls", apis_sales.CallViewSet, basename="call")
router.register("objections", apis_sales.ObjectionViewSet, basename="objection")
router.register("deals", apis_sales.DealViewSet, basename="deal")
router.register("accounts", apis_sales.AccountViewSet, basename="account")
router.register("contacts", apis_sales.ContactViewSet, basename="contact")
urlpatterns = router.urls
urlpatterns += [path("reports/<str:name>/", reports_api.ReportApi.as_view(), name="report-api")]
urlpatterns += [path("call-list/", apis_sales.CallListApi.as_view(), name="call-list-api")]
