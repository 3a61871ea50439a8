from django.urls import path

from . import views, views_accounts, views_deals, views_live, views_search, views_team

app_name = "crm"
urlpatterns = [
    path("live/", views_live.live_poll, name="live-poll"),
    path("notifications/", views_live.notification_list, name="notification-list"),
    path("notifications/read-all/", views_live.notifications_read_all, name="notifications-read-all"),
    path("notifications/<int:notification_id>/read/", views_live.notification_read, name="notification-read"),
    path("search/", views_search.search_page, name="search"),
    path("search/suggest/", views_search.search_suggest, name="search-suggest"),
    path("calls/", views_team.calls_home, name="call-list"),
    path("calls/reps/<int:rep_id>/", views_team.rep_call_list, name="rep-call-list"),
    path("calls/reps/<int:rep_id>/reassign/", views_team.rep_reassign, name="rep-reassign"),
    path("calls/next/", views.next_call, name="next-call"),
    path("calls/leads/<int:lead_id>/", views.lead_detail, name="lead-detail"),
    path("calls/leads/<int:lead_id>/log/", views.lead_log_call, name="lead-log-call"),
    path("calls/leads/<int:lead_id>/accept/", views.lead_accept, name="lead-accept"),
    path("calls/leads/<int:lead_id>/reject/", views.lead_reject, name="lead-reject"),
    path("calls/leads/<int:lead_id>/convert/", views.lead_convert, name="lead-convert"),
    path("calls/leads/<int:lead_id>/share/", views.lead_share_collateral, name="lead-share"),
    path("accounts/", views_accounts.account_list, name="account-list"),
    path("accounts/<int:account_id>/", views_accounts.account_detail, name="account-detail"),
    path("accounts/<int:account_id>/<slug:action>/", views_accounts.account_action, name="account-action"),
    path("contacts/<int:contact_id>/", views_accounts.contact_detail, name="contact-detail"),
    path("contacts/<int:contact_id>/edit/", views_accounts.contact_edit, name="contact-edit"),
    path("deals/", views_deals.deal_list, name="deal-list"),
    path("deals/team/", views_deals.deal_team, name="deal-team"),
    path("deals/forecast/", views_deals.deal_forecast_page, name="deal-forecast"),
    path("deals/<int:deal_id>/move/", views_deals.deal_move_view, name="deal-move"),
    path("deals/<int:deal_id>/close/", views_deals.deal_close_view, name="deal-close"),
]
