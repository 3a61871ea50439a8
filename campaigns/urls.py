from django.urls import path

from . import views_public

app_name = "campaigns"
urlpatterns = [
    path("c/<str:token>/", views_public.collateral_link, name="collateral-link"),
]
