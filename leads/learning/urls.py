from django.urls import path

from . import views

app_name = "learning"
urlpatterns = [
    path("marketing/scoring/learned/", views.learned_scoring, name="learned-scoring"),
    path("marketing/scoring/learned/train/", views.learned_train, name="learned-train"),
    path("marketing/scoring/learned/training/", views.learned_training_progress, name="learned-training"),
    path("marketing/scoring/learned/<int:pk>/activate/", views.learned_activate, name="learned-activate"),
]
