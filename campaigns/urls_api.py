from rest_framework.routers import SimpleRouter

from . import apis

router = SimpleRouter()
router.register("campaigns", apis.CampaignViewSet, basename="campaign")
router.register("collateral", apis.CollateralViewSet, basename="collateral")
urlpatterns = router.urls
