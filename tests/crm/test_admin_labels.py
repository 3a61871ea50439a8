"""Issue 21 item 8: the admin names every model in proper English plural ("SLA breaches")."""

import re

import pytest
from django.apps import apps

PROJECT_APPS = ("leads", "learning", "campaigns", "crm", "reports")
# Django's default plural only appends "s": "breach" -> "breachs", "policy" -> "policys".
BAD_PLURAL = re.compile(r"(ch|sh|ss|x|z)s$|[^aeiou]ys$")


@pytest.mark.parametrize(
    "model", [m for m in apps.get_models() if m._meta.app_label in PROJECT_APPS], ids=lambda m: m._meta.label
)
def test_every_model_has_a_proper_plural(model):
    assert not BAD_PLURAL.search(str(model._meta.verbose_name_plural))


@pytest.mark.django_db
def test_the_admin_index_says_sla_breaches(client_for, manager):
    html = client_for(manager).get("/admin/").content.decode()
    assert "SLA breaches" in html
    assert "breachs" not in html.lower()
