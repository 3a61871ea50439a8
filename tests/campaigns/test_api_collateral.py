import datetime

import pytest
from django.utils import timezone

from campaigns.models import Collateral, CollateralShare
from tests.campaigns.conftest import PDF, PNG
from tests.campaigns.factories import CollateralFactory, CollateralShareFactory, CollateralVersionFactory
from tests.leads.factories import LeadFactory, SegmentFactory

pytestmark = pytest.mark.django_db

BASE = "/api/collateral/"


def test_reps_see_only_shareable_items_marketing_sees_all(api_for, rep, marketer):
    live = CollateralFactory(title="Live")
    CollateralFactory(title="Archived", is_archived=True)
    CollateralFactory(title="Expired", expires_on=timezone.localdate() - datetime.timedelta(days=3))

    rep_titles = [r["title"] for r in api_for(rep).get(BASE).json()["results"]]
    marketing_titles = [r["title"] for r in api_for(marketer).get(BASE).json()["results"]]

    assert rep_titles == [live.title]
    assert marketing_titles == ["Archived", "Expired", "Live"]


def test_people_without_a_role_see_nothing(api_for, make_user):
    assert api_for(make_user()).get(BASE).status_code == 403


@pytest.mark.parametrize("who", ["rep", "marketer", "manager"])
def test_the_list_query_count_is_constant(request, api_for, who, django_assert_num_queries):
    api = api_for(request.getfixturevalue(who))

    def add_item():
        item = CollateralFactory(url="")
        item.current_version = CollateralVersionFactory(collateral=item)
        item.save()
        item.approved_segments.set([SegmentFactory()])
        CollateralShareFactory(collateral=item)

    add_item()
    api.get(BASE)
    with django_assert_num_queries(3) as few:  # count, items, approved segments
        api.get(BASE)
    for _ in range(5):
        add_item()
    with django_assert_num_queries(len(few.captured_queries)):
        response = api.get(BASE)

    assert response.json()["count"] == 6
    assert response.json()["results"][0]["share_count"] == 1


def test_marketing_uploads_an_item_and_a_version(api_for, marketer, upload):
    api = api_for(marketer)

    created = api.post(
        BASE, {"title": "Deck", "kind": "presentation", "file": upload("deck.pdf"), "industries": ["software"]}
    )
    version = api.post(f"{BASE}{created.json()['id']}/versions/", {"file": upload("deck-2.pdf", PDF + b"%2")})
    versions = api.get(f"{BASE}{created.json()['id']}/versions/")

    assert created.status_code == 201, created.json()
    assert created.json()["current_version"]["number"] == 1
    assert version.status_code == 201 and version.json()["number"] == 2
    assert [v["number"] for v in versions.json()["results"]] == [2, 1]


def test_a_url_item_through_json(api_for, marketer):
    response = api_for(marketer).post(
        BASE,
        {"title": "Page", "kind": "web_page", "url": "https://example.com/p", "objection_categories": ["trust"]},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["objection_categories"] == ["trust"]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("evil.exe", b"MZ" + b"\x00" * 20, "not allowed"),
        ("deck.pdf", PNG, "content is not a PDF"),
        ("deck.pdf", b"", "empty"),
    ],
)
def test_bad_files_are_400s_naming_the_file(api_for, marketer, upload, name, content, expected):
    response = api_for(marketer).post(BASE, {"title": "X", "kind": "brochure", "file": upload(name, content)})

    assert response.status_code == 400
    assert expected in response.json()["error"]["fields"]["file"][0]
    assert not Collateral.objects.exists()


def test_an_oversized_version_is_a_400(api_for, marketer, upload, settings):
    item = CollateralFactory(url="")
    settings.COLLATERAL_MAX_UPLOAD_BYTES = 10

    response = api_for(marketer).post(f"{BASE}{item.pk}/versions/", {"file": upload()})

    assert response.status_code == 400 and "most allowed" in response.json()["error"]["fields"]["file"][0]


def test_a_path_in_an_uploaded_name_is_stored_under_a_safe_name(api_for, marketer, upload):
    item = CollateralFactory(url="")

    response = api_for(marketer).post(f"{BASE}{item.pk}/versions/", {"file": upload("../../../etc/deck.pdf")})

    assert response.status_code == 201
    item.refresh_from_db()
    assert item.current_version.original_name == "deck.pdf"
    assert ".." not in item.current_version.file.name


@pytest.mark.parametrize("who", ["rep", "manager"])
def test_reps_and_managers_cannot_write(request, api_for, who, upload):
    api = api_for(request.getfixturevalue(who))
    item = CollateralFactory(url="")
    item.current_version = CollateralVersionFactory(collateral=item)
    item.save()

    assert api.post(BASE, {"title": "X", "kind": "brochure", "url": "https://e.com"}, format="json").status_code == 403
    assert api.post(f"{BASE}{item.pk}/versions/", {"file": upload()}).status_code == 403
    assert api.patch(f"{BASE}{item.pk}/", {"title": "Y"}, format="json").status_code == 403


def test_a_rep_shares_with_their_lead_and_gets_the_tracked_link(api_for, rep):
    item = CollateralFactory()
    lead = LeadFactory(owner=rep)

    response = api_for(rep).post(f"{BASE}{item.pk}/share/", {"lead_id": lead.pk}, format="json")

    share = CollateralShare.objects.get()
    assert response.status_code == 201
    assert response.json()["link"] == f"http://testserver/c/{share.token}/"


def test_a_rep_sharing_with_another_reps_lead_gets_not_found(api_for, rep, other_rep):
    item = CollateralFactory()
    lead = LeadFactory(owner=other_rep)

    response = api_for(rep).post(f"{BASE}{item.pk}/share/", {"lead_id": lead.pk}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "lead_id": ["Lead not found (it may have been moved to someone else)."]
    }


def test_sharing_an_expired_item_is_a_clear_400(api_for, marketer):
    item = CollateralFactory(expires_on=timezone.localdate() - datetime.timedelta(days=1))

    response = api_for(marketer).post(f"{BASE}{item.pk}/share/", {"lead_id": LeadFactory().pk}, format="json")

    assert response.status_code == 400
    assert "expired" in response.json()["error"]["fields"]["collateral_id"][0]


def test_archive_and_restore(api_for, marketer):
    item = CollateralFactory()
    api = api_for(marketer)

    archived = api.post(f"{BASE}{item.pk}/archive/")
    restored = api.post(f"{BASE}{item.pk}/restore/")

    assert archived.json()["is_archived"] is True
    assert restored.json()["is_archived"] is False


def test_patch_changes_tags_and_refuses_unknown_objections(api_for, marketer):
    item = CollateralFactory()
    api = api_for(marketer)

    ok = api.patch(f"{BASE}{item.pk}/", {"industries": ["retail"], "funnel_stage": "decision"}, format="json")
    bad = api.patch(f"{BASE}{item.pk}/", {"objection_categories": ["vibes"]}, format="json")

    assert ok.status_code == 200 and ok.json()["industries"] == ["retail"]
    assert bad.status_code == 400
    assert any(field.startswith("objection_categories") for field in bad.json()["error"]["fields"])


def test_an_oversized_request_is_refused_before_the_upload_is_read(api_for, marketer, upload, settings):
    item = CollateralFactory(url="")
    settings.COLLATERAL_MAX_UPLOAD_BYTES = 1024
    big = upload("big.pdf", PDF + b"0" * (200 * 1024))

    response = api_for(marketer).post(f"{BASE}{item.pk}/versions/", {"file": big})

    assert response.status_code == 400
    assert "the most allowed is 1,024 bytes" in response.json()["error"]["fields"]["file"][0]
    assert not item.versions.exists()


def test_the_versions_list_query_count_is_constant(api_for, marketer, django_assert_num_queries):
    api = api_for(marketer)
    item = CollateralFactory(url="")
    CollateralVersionFactory(collateral=item, uploaded_by=marketer)
    api.get(f"{BASE}{item.pk}/versions/")
    with django_assert_num_queries(4) as few:  # item, its approved segments, count, page (uploader joined)
        api.get(f"{BASE}{item.pk}/versions/")
    CollateralVersionFactory.create_batch(5, collateral=item, uploaded_by=marketer)
    with django_assert_num_queries(len(few.captured_queries)):
        response = api.get(f"{BASE}{item.pk}/versions/")

    assert response.json()["count"] == 6
