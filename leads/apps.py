from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = "Marketing: leads and scoring"
    default_auto_field = "django.db.models.BigAutoField"
