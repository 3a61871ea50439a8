"""Concurrent writers on PostgreSQL: two set-based adds of the same segment never duplicate
or fail, and two uploads to one item get distinct version numbers."""

import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from campaigns.models import CampaignMember
from campaigns.services.campaigns import campaign_members_add_from_segment
from campaigns.services.collateral import collateral_version_add
from tests.campaigns.conftest import PDF
from tests.campaigns.factories import CampaignFactory, CollateralFactory
from tests.leads.factories import LeadFactory, SegmentFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(target, n: int = 2) -> list:
    barrier = threading.Barrier(n)
    results, errors = [], []

    def work():
        try:
            barrier.wait()
            results.append(target())
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def test_two_concurrent_segment_adds_add_each_lead_once(marketer):
    segment = SegmentFactory(definition={"field": "industry", "op": "eq", "value": "software"})
    LeadFactory.create_batch(30, industry="software")
    campaign = CampaignFactory()

    added = run_together(
        lambda: campaign_members_add_from_segment(campaign_id=campaign.pk, segment_id=segment.pk, actor=marketer)
    )

    assert sum(result.added for result in added) == 30
    # what one add did not insert, the other did: each counts it as already a member
    assert all(result.added + result.skipped.get("already_member", 0) == 30 for result in added)
    assert CampaignMember.objects.filter(campaign=campaign).count() == 30


def test_two_concurrent_uploads_get_distinct_version_numbers(marketer, media_root):
    item = CollateralFactory(url="")

    versions = run_together(
        lambda: collateral_version_add(collateral_id=item.pk, file=SimpleUploadedFile("v.pdf", PDF), actor=marketer)
    )

    assert sorted(v.number for v in versions) == [1, 2]
    item.refresh_from_db()
    assert item.current_version.number == 2
