from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("agreement/", views.agreement_page, name="agreement"),
]
