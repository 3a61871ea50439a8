from django.urls import path

from . import views

app_name = "crm"
urlpatterns = [path("calls/", views.call_list, name="call-list")]
