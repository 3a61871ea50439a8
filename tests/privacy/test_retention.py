"""Retention: unconverted leads without activity for PRIVACY_RETENTION_DAYS are anonymised by
the beat job; marketing sees how many are due."""

import datetime

import pytest
from django.conf import settings
from django.utils import timezone

from leads.models import Lead, LifecycleStage
from privacy.models import ErasureAudit
from privacy.services import retention_due_count, retention_run
from privacy.tasks import retention_run_task
from tests.crm.factories import DealFactory
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db
S = LifecycleStage


def _old(days):
    return timezone.now() - datetime.timedelta(days=days)


@pytest.fixture
def book(settings):
    settings.PRIVACY_RETENTION_DAYS = 365
    return {
        "stale_new": LeadFactory(created_at=_old(400)),
        "stale_recycled": LeadFactory(created_at=_old(900), stage=S.RECYCLED, stage_changed_at=_old(500)),
        "stale_disqualified": LeadFactory(created_at=_old(800), stage=S.DISQUALIFIED, stage_changed_at=_old(700)),
        "engaged_lately": LeadFactory(created_at=_old(400), stage=S.ENGAGED, last_engaged_at=_old(10)),
        "recycled_lately": LeadFactory(created_at=_old(900), stage=S.RECYCLED, stage_changed_at=_old(30)),
        "young": LeadFactory(created_at=_old(100)),
        "customer": LeadFactory(created_at=_old(900), stage=S.CUSTOMER, stage_changed_at=_old(800)),
        "with_sales": LeadFactory(created_at=_old(900), stage=S.SAL, stage_changed_at=_old(800)),
    }


def test_only_unconverted_leads_without_recent_activity_are_due(book):
    assert retention_due_count() == 3


def test_the_job_anonymises_the_due_leads_with_one_audit_each_and_leaves_the_rest(book):
    result = retention_run_task()

    assert result == {"due": 3, "erased": 3, "skipped": 0}
    erased = set(Lead.objects.filter(erased_at__isnull=False).values_list("pk", flat=True))
    assert erased == {book[k].pk for k in ("stale_new", "stale_recycled", "stale_disqualified")}
    assert Lead.objects.get(pk=book["stale_new"].pk).first_name == ""
    assert Lead.objects.get(pk=book["young"].pk).first_name != ""
    assert list(ErasureAudit.objects.values_list("reason", "erased_by")) == [("retention", None)] * 3
    assert retention_due_count() == 0
    assert retention_run() == {"due": 0, "erased": 0, "skipped": 0}


def test_a_due_lead_with_an_open_deal_is_skipped(book):
    DealFactory(lead=book["stale_new"], stage="proposal")
    assert retention_run()["skipped"] == 1
    assert Lead.objects.get(pk=book["stale_new"].pk).erased_at is None


def test_the_job_takes_at_most_a_batch(book):
    assert retention_run(limit=2) == {"due": 2, "erased": 2, "skipped": 0}
    assert retention_due_count() == 1


def test_the_beat_schedule_runs_the_job_daily():
    entry = settings.CELERY_BEAT_SCHEDULE["privacy-retention"]
    assert entry["task"] == "privacy.tasks.retention_run_task" and entry["schedule"] == 86400


def test_the_marketer_sees_how_many_are_due(client_for, marketer, book):
    html = client_for(marketer).get("/privacy/retention/").content.decode()
    assert 'id="retention-due"' in html and "<b>3</b> leads" in html and "365 days" in html


@pytest.mark.parametrize("role, status", [("rep", 403), ("other_rep", 403), ("manager", 200), ("marketer", 200)])
def test_retention_page_per_role(request, client_for, role, status):
    assert client_for(request.getfixturevalue(role)).get("/privacy/retention/").status_code == status


def test_anonymous_goes_to_login(client):
    assert client.get("/privacy/retention/")["Location"].startswith("/accounts/login/")


def test_the_retention_page_takes_a_constant_number_of_queries(client_for, marketer, count_queries, book):
    client = client_for(marketer)
    few = count_queries(lambda: client.get("/privacy/retention/"))
    for _ in range(5):
        LeadFactory(created_at=_old(999))
    assert count_queries(lambda: client.get("/privacy/retention/")) == few
