from django.urls import path

from . import views
from .rest import leads as rest_leads

app_name = "leads"
urlpatterns = [
    path("marketing/segments/", views.segment_list, name="segment-list"),
    path("marketing/segments/new/", views.segment_new, name="segment-new"),
    path("marketing/segments/builder/", views.segment_builder, name="segment-builder"),
    path("marketing/segments/<int:pk>/", views.segment_detail, name="segment-detail"),
    path("marketing/imports/", views.import_list, name="import-list"),
    path("marketing/imports/<int:pk>/", views.import_detail, name="import-detail"),
    path("capture/<slug:key>/", rest_leads.CaptureApi.as_view(), name="capture"),
]
