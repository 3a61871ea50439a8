import datetime

import pytest
from django.utils import timezone

from campaigns.models import CollateralKind, CollateralView
from campaigns.services.collateral import collateral_create, collateral_share, collateral_version_add
from leads.models import EngagementEvent, EngagementKind
from tests.campaigns.conftest import PDF
from tests.campaigns.factories import CollateralFactory, CollateralShareFactory
from tests.leads.factories import LeadFactory
from tests.leads.latest_events import assert_columns_match_events, stored_columns

pytestmark = pytest.mark.django_db


def link(share) -> str:
    return f"/c/{share.token}/"


def test_a_view_of_a_url_item_redirects_and_records_a_view_and_an_engagement_event(client):
    share = CollateralShareFactory(collateral=CollateralFactory(url="https://example.com/story"))

    response = client.get(link(share), HTTP_USER_AGENT="Mail preview")

    assert response.status_code == 302
    assert response["Location"] == "https://example.com/story"
    assert response["Referrer-Policy"] == "no-referrer"
    view = CollateralView.objects.get(share=share)
    assert view.user_agent == "Mail preview"
    event = EngagementEvent.objects.get(lead=share.lead)
    assert event.kind == EngagementKind.COLLATERAL_VIEW
    assert event.source_reference == f"share:{share.pk}:view:{view.pk}"


def test_a_view_moves_the_leads_latest_collateral_view_column(client):
    share = CollateralShareFactory()

    client.get(link(share))

    event = EngagementEvent.objects.get(lead=share.lead)
    assert stored_columns(share.lead_id)["last_collateral_view_at"] == event.occurred_at
    assert_columns_match_events(share.lead_id)


def test_each_view_is_its_own_engagement_event(client):
    share = CollateralShareFactory()

    client.get(link(share))
    client.get(link(share))

    assert CollateralView.objects.filter(share=share).count() == 2
    assert EngagementEvent.objects.filter(lead=share.lead, kind=EngagementKind.COLLATERAL_VIEW).count() == 2


def test_a_file_item_serves_the_current_version_inline_with_a_safe_name(client, marketer, upload, rep):
    item = collateral_create(actor=marketer, title="Story", kind=CollateralKind.CASE_STUDY, file=upload("v1.pdf"))
    lead = LeadFactory(owner=rep)
    share = collateral_share(collateral_id=item.pk, lead_id=lead.pk, actor=rep)
    collateral_version_add(collateral_id=item.pk, file=upload("Story v2.pdf", PDF + b"%v2\n"), actor=marketer)

    response = client.get(link(share))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF + b"%v2\n"
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="Story_v2.pdf"'
    assert response["Cache-Control"] == "private, no-store"


def test_a_head_request_is_answered_but_not_counted(client):
    share = CollateralShareFactory()

    response = client.head(link(share))

    assert response.status_code == 302
    assert not CollateralView.objects.exists()
    assert not EngagementEvent.objects.exists()


@pytest.mark.parametrize(
    "make_share",
    [
        lambda: CollateralShareFactory(revoked_at=timezone.now()),
        lambda: CollateralShareFactory(collateral=CollateralFactory(is_archived=True)),
        lambda: CollateralShareFactory(
            collateral=CollateralFactory(expires_on=timezone.localdate() - datetime.timedelta(days=1))
        ),
        lambda: CollateralShareFactory(collateral=CollateralFactory(url="")),
    ],
    ids=["revoked", "archived", "expired", "nothing-to-serve"],
)
def test_a_withdrawn_link_is_the_same_plain_404_as_an_unknown_one(client, make_share):
    share = make_share()

    withdrawn = client.get(link(share))
    unknown = client.get("/c/not-a-real-token-at-all/")

    assert withdrawn.status_code == unknown.status_code == 404
    assert withdrawn.content == unknown.content == b"Not found."
    assert not CollateralView.objects.exists()
    assert not EngagementEvent.objects.exists()


def test_a_missing_file_in_storage_is_a_404_not_a_500(client, marketer, upload, rep):
    item = collateral_create(actor=marketer, title="Story", kind=CollateralKind.CASE_STUDY, file=upload())
    share = collateral_share(collateral_id=item.pk, lead_id=LeadFactory(owner=rep).pk, actor=rep)
    item.current_version.file.delete(save=False)

    response = client.get(link(share))

    assert response.status_code == 404
    assert not CollateralView.objects.exists()
