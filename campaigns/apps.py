from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Marketing: campaigns and collateral"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from leads.api import LeadMover, lead_merge_register

        from .merging import campaigns_lead_merge

        lead_merge_register(LeadMover(name="campaigns", move=campaigns_lead_merge))
