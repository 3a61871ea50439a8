from rest_framework.routers import SimpleRouter

from . import apis

router = SimpleRouter()
router.register("campaigns", apis.CampaignViewSet, basename="campaign")
router.register("collateral", apis.CollateralViewSet, basename="collateral")
router.register("customer-feedback", apis.FeedbackViewSet, basename="customer-feedback")
urlpatterns = router.urls
