from django.urls import path

from . import views

app_name = "integrations"
urlpatterns = [
    path("account/tokens/", views.token_list, name="tokens"),
    path("account/tokens/<int:token_id>/revoke/", views.token_revoke_view, name="token-revoke"),
    path("integrations/webhooks/", views.webhook_list, name="webhook-list"),
    path("integrations/webhooks/<int:pk>/", views.webhook_detail, name="webhook-detail"),
    path("integrations/webhooks/<int:pk>/toggle/", views.webhook_toggle, name="webhook-toggle"),
    path("integrations/deliveries/<int:pk>/", views.delivery_detail, name="delivery-detail"),
    path("integrations/deliveries/<int:pk>/redeliver/", views.delivery_redeliver_view, name="delivery-redeliver"),
]
