from rest_framework.routers import SimpleRouter

from . import apis

router = SimpleRouter()
router.register("learned-models", apis.LearnedModelViewSet, basename="learned-model")
urlpatterns = router.urls
