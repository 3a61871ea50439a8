from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    """Demo data (`seed_demo`) and every benchmark (`bench`): tooling on top; nothing imports it."""

    name = "devtools"
    verbose_name = "Developer tools"
