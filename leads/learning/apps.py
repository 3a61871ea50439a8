from django.apps import AppConfig


class LearningConfig(AppConfig):
    name = "leads.learning"
    label = "learning"
    verbose_name = "Marketing: learned scoring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Plug the learned model into leads' scorer and lead pages (leads never imports us)."""
        from leads.api import LearnedScoring, learned_scoring_register

        from .apply import learned_logit_sql, learned_reasons, learned_scoring_terms, probability_sql

        learned_scoring_register(
            LearnedScoring(
                scoring_terms=learned_scoring_terms,
                logit_sql=learned_logit_sql,
                probability_sql=probability_sql,
                reasons=learned_reasons,
            )
        )
