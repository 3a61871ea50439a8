from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from config import views

api_patterns = [
    path("", include("leads.rest.urls")),
    path("", include("leads.learning.rest.urls")),
    path("", include("campaigns.rest.urls")),
    path("", include("crm.rest.urls")),
    path("", include("reports.rest.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz/", views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico whatever the page says.
    path("favicon.ico", views.favicon, name="favicon"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/", include(api_patterns)),
    path("", include("leads.urls")),
    path("", include("leads.learning.urls")),
    path("", include("campaigns.urls")),
    path("", include("crm.urls")),
    path("", include("privacy.urls")),
    path("", include("reports.urls")),
    path("", include("integrations.urls")),
]

handler404 = "config.views.not_found"
