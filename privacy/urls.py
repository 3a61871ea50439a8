from django.urls import path

from . import views

app_name = "privacy"
urlpatterns = [
    path("privacy/", views.privacy_home, name="home"),
    path("privacy/retention/", views.retention, name="retention"),
    path("privacy/leads/<int:lead_id>/", views.person_detail, name="person"),
    path("privacy/leads/<int:lead_id>/export.json", views.person_export_json, name="person-json"),
    path("privacy/leads/<int:lead_id>/erase/", views.person_erase_view, name="person-erase"),
]
