"""The database keeps the lead's search columns: the lower-cased name and the phone's digits."""

import pytest
from django.db import connection

from leads.models import Lead, phone_digits
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_search_name_is_first_and_last_name_lower_cased():
    lead = LeadFactory(first_name="Vera", last_name="Teixeira")
    lead.refresh_from_db()
    assert lead.search_name == "vera teixeira"


def test_phone_digits_drop_the_formatting():
    lead = LeadFactory(phone="+49 (30) 123-45.6/7")
    lead.refresh_from_db()
    assert lead.phone_digits == "49301234567"


def test_search_columns_follow_a_set_based_update():
    lead = LeadFactory(first_name="Vera", last_name="Teixeira", phone="030 1234")
    Lead.objects.filter(pk=lead.pk).update(last_name="Silva", phone="(040) 99-88")
    lead.refresh_from_db()
    assert (lead.search_name, lead.phone_digits) == ("vera silva", "0409988")


def test_python_normalisation_matches_the_column():
    raw = "+1 (555) 010-99.12"
    lead = LeadFactory(phone=raw)
    lead.refresh_from_db()
    assert phone_digits(raw) == lead.phone_digits


@pytest.mark.postgres
def test_postgresql_has_the_trigram_and_prefix_indexes():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'leads_lead'")
        names = {row[0] for row in cursor.fetchall()}
    assert {
        "lead_search_name_trgm_idx",
        "lead_phone_digits_trgm_idx",
        "lead_company_trgm_idx",
        "lead_domain_trgm_idx",
        "lead_email_prefix_idx",
    } <= names
