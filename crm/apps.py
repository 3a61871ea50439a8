from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "Sales"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from leads.api import LeadMover, lead_merge_register

        from . import receivers  # noqa: F401
        from .merging import crm_lead_merge

        lead_merge_register(LeadMover(name="crm", move=crm_lead_merge))
