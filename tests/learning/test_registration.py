"""leads never imports leads.learning: learning plugs its scoring terms into leads from its
AppConfig.ready() (the import-boundary test checks the direction)."""

from django.apps import apps

from leads import learned_scoring as registry
from leads.learning import apply


def test_learning_registered_its_scoring_terms_with_leads_at_startup():
    provider = registry.learned_scoring()

    assert provider is not None
    assert provider.scoring_terms is apply.learned_scoring_terms
    assert provider.logit_sql is apply.learned_logit_sql
    assert provider.probability_sql is apply.probability_sql
    assert provider.reasons is apply.learned_reasons


def test_ready_registers_once_however_often_it_runs(monkeypatch):
    monkeypatch.setattr(registry, "_registered", [])

    apps.get_app_config("learning").ready()
    apps.get_app_config("learning").ready()

    assert len(registry._registered) == 1
    assert registry.learned_scoring().scoring_terms is apply.learned_scoring_terms
