from django.urls import path

from . import duplicate_views, scoring_views, views, views_consent
from .rest import leads as rest_leads

app_name = "leads"
urlpatterns = [
    path("marketing/segments/", views.segment_list, name="segment-list"),
    path("marketing/segments/new/", views.segment_new, name="segment-new"),
    path("marketing/segments/builder/", views.segment_builder, name="segment-builder"),
    path("marketing/segments/<int:pk>/", views.segment_detail, name="segment-detail"),
    path("marketing/imports/", views.import_list, name="import-list"),
    path("marketing/imports/<int:pk>/", views.import_detail, name="import-detail"),
    path("marketing/scoring/", scoring_views.scoring_page, name="scoring"),
    path("marketing/scoring/progress/", scoring_views.scoring_progress, name="scoring-progress"),
    path("marketing/scoring/versions/<int:pk>/restore/", scoring_views.scoring_restore, name="scoring-restore"),
    path("marketing/duplicates/", duplicate_views.duplicate_list, name="duplicate-list"),
    path("marketing/duplicates/<int:pk>/merge/", duplicate_views.duplicate_merge, name="duplicate-merge"),
    path("marketing/duplicates/<int:pk>/dismiss/", duplicate_views.duplicate_dismiss_view, name="duplicate-dismiss"),
    path("capture/<slug:key>/", rest_leads.CaptureApi.as_view(), name="capture"),
    path("unsubscribe/<str:token>/", views_consent.unsubscribe, name="unsubscribe"),
    path("leads/<int:lead_id>/consents/withdraw/", views_consent.lead_consent_withdraw, name="consent-withdraw"),
    path("leads/<int:lead_id>/consents/grant/", views_consent.lead_consent_grant, name="consent-grant"),
]
