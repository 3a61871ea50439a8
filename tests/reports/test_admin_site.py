"""The report pages come from the project's AdminSite subclass, not from patching the default
site; the reports app's own changelists stay reachable under the same `/admin/reports/` prefix."""

import pytest
from django.contrib import admin
from django.urls import resolve, reverse

from reports.admin_site import BatonAdminSite, report_view, reports_index
from reports.models import FunnelRollup
from reports.selectors import REPORTS


def test_the_admin_site_is_the_subclass_and_its_urls_are_not_patched():
    assert admin.site.name == "admin"  # evaluates the lazy default site
    site = admin.site._wrapped
    assert type(site) is BatonAdminSite
    assert "get_urls" not in vars(site)  # the method is the class's, not a patch on the instance
    assert FunnelRollup in admin.site._registry


def test_every_report_url_resolves_to_the_report_pages():
    assert resolve("/admin/reports/").func is reports_index
    for slug in REPORTS:
        match = resolve(f"/admin/reports/{slug}/")
        assert (match.func, match.kwargs) == (report_view, {"slug": slug})
        assert reverse("admin:report", args=[slug]) == f"/admin/reports/{slug}/"


@pytest.mark.django_db
def test_the_rollup_changelist_is_not_taken_for_a_report(client_for, manager):
    response = client_for(manager).get("/admin/reports/funnelrollup/")

    assert response.status_code == 200
    assert response.resolver_match.url_name == "reports_funnelrollup_changelist"
