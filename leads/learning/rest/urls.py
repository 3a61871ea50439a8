from rest_framework.routers import SimpleRouter

from . import learned_models

router = SimpleRouter()
router.register("learned-models", learned_models.LearnedModelViewSet, basename="learned-model")
urlpatterns = router.urls
