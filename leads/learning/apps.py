from django.apps import AppConfig


class LearningConfig(AppConfig):
    name = "leads.learning"
    label = "learning"
    verbose_name = "Marketing: learned scoring"
    default_auto_field = "django.db.models.BigAutoField"
