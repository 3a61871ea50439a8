from django.urls import path

from . import lead_views, views, views_public

app_name = "campaigns"
urlpatterns = [
    # Public, tokened links a lead opens without logging in.
    path("c/<str:token>/", views_public.collateral_link, name="collateral-link"),
    path("s/<str:token>/", views_public.survey, name="survey"),
    # Marketer pages.
    path("marketing/campaigns/", views.campaign_list, name="campaign-list"),
    path("marketing/campaigns/new/", views.campaign_create, name="campaign-create"),
    path("marketing/campaigns/<int:pk>/", views.campaign_detail, name="campaign-detail"),
    path("marketing/campaigns/<int:pk>/edit/", views.campaign_edit, name="campaign-edit"),
    path("marketing/campaigns/<int:pk>/members/segment/", views.campaign_members_add, name="campaign-members-add"),
    path("marketing/campaigns/<int:pk>/members/one/", views.campaign_member_add, name="campaign-member-add"),
    path("marketing/campaigns/<int:pk>/members/sent/", views.campaign_members_sent, name="campaign-members-sent"),
    path(
        "marketing/campaigns/<int:pk>/members/<int:member_id>/response/",
        views.campaign_member_response,
        name="campaign-member-response",
    ),
    path(
        "marketing/campaigns/<int:pk>/members/<int:member_id>/status/",
        views.campaign_member_status,
        name="campaign-member-status",
    ),
    path("marketing/campaigns/<int:pk>/influence/", views.campaign_influence_panel, name="campaign-influence"),
    path("marketing/leads/", lead_views.lead_list, name="lead-list"),
    path("marketing/leads/export/", lead_views.lead_export, name="lead-export"),
    path("marketing/leads/bulk/", lead_views.lead_bulk, name="lead-bulk"),
    path("marketing/leads/views/", lead_views.saved_view_save, name="lead-view-save"),
    path("marketing/leads/views/<int:pk>/delete/", lead_views.saved_view_delete, name="lead-view-delete"),
    path("marketing/leads/<int:pk>/", lead_views.lead_detail, name="lead-detail"),
    path("marketing/library/", views.library, name="library"),
    path("marketing/library/new/", views.collateral_create, name="collateral-create"),
    path("marketing/library/<int:pk>/", views.collateral_detail, name="collateral-detail"),
    path("marketing/library/<int:pk>/edit/", views.collateral_edit, name="collateral-edit"),
    path("marketing/library/<int:pk>/versions/", views.collateral_version_upload, name="collateral-version-upload"),
    path("marketing/library/<int:pk>/archive/", views.collateral_archive, name="collateral-archive"),
    path("marketing/library/<int:pk>/file/", views.collateral_download, name="collateral-download"),
    path(
        "marketing/library/<int:pk>/file/v<int:number>/", views.collateral_download, name="collateral-download-version"
    ),
]
