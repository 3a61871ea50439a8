from django.urls import path
from rest_framework.routers import SimpleRouter

from . import handoff, sales, search

router = SimpleRouter()
router.register("assignments", handoff.AssignmentViewSet, basename="assignment")
router.register("queues", handoff.SalesQueueViewSet, basename="queue")
router.register("calls", sales.CallViewSet, basename="call")
router.register("objections", sales.ObjectionViewSet, basename="objection")
router.register("deals", sales.DealViewSet, basename="deal")
router.register("accounts", sales.AccountViewSet, basename="account")
router.register("contacts", sales.ContactViewSet, basename="contact")
urlpatterns = router.urls
urlpatterns += [path("call-list/", sales.CallListApi.as_view(), name="call-list-api")]
urlpatterns += [path("search/", search.SearchApi.as_view(), name="search-api")]
