from rest_framework.routers import SimpleRouter

from . import campaigns

router = SimpleRouter()
router.register("campaigns", campaigns.CampaignViewSet, basename="campaign")
router.register("collateral", campaigns.CollateralViewSet, basename="collateral")
router.register("customer-feedback", campaigns.FeedbackViewSet, basename="customer-feedback")
urlpatterns = router.urls
