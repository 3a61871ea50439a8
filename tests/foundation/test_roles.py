import pytest
from django.contrib.auth.models import Group

from config.roles import MARKETING, ROLE_PERMISSIONS, SALES_MANAGER, SALES_REP

pytestmark = pytest.mark.django_db


def perms(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}


def test_the_three_groups_exist_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= set(ROLE_PERMISSIONS)


def test_marketing_changes_marketing_data_and_reads_reports_but_not_sales_rows():
    granted = perms(MARKETING)

    assert {"leads.change_lead", "leads.change_scoringrule", "campaigns.add_campaign", "crm.view_reports"} <= granted
    assert not {"crm.add_call", "crm.change_deal", "crm.view_call"} & granted


def test_a_rep_logs_calls_and_deals_but_cannot_change_scoring_or_see_reports():
    granted = perms(SALES_REP)

    assert {"crm.add_call", "crm.change_deal", "crm.add_objectionnote", "leads.view_lead"} <= granted
    assert not {"leads.change_scoringrule", "leads.change_segment", "crm.view_reports", "crm.delete_deal"} & granted


def test_a_manager_has_all_sales_permissions_and_the_reports():
    granted = perms(SALES_MANAGER)

    assert {"crm.view_reports", "crm.change_assignment", "crm.delete_deal", "leads.view_lead"} <= granted
    assert "leads.change_scoringrule" not in granted
