from django.urls import path

from . import views

app_name = "leads"
urlpatterns = [path("marketing/segments/", views.segment_list, name="segment-list")]
