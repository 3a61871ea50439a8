from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """Subject access, erasure and retention: the top floor. It calls each app's ``api``
    privacy functions (each app exports and erases its own rows); nothing imports it."""

    name = "privacy"
    verbose_name = "Privacy"
    default_auto_field = "django.db.models.BigAutoField"
