import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from campaigns.models import CollateralKind
from campaigns.services.collateral import collateral_create, collateral_version_add
from tests.campaigns.conftest import JPEG, MP4, PDF, PNG, office
from tests.campaigns.factories import CollateralFactory

pytestmark = pytest.mark.django_db


def create(marketer, upload, **kwargs):
    kwargs.setdefault("file", upload())
    return collateral_create(actor=marketer, title="Case study", kind=CollateralKind.CASE_STUDY, **kwargs)


def file_error(excinfo) -> str:
    return excinfo.value.message_dict["file"][0]


def test_uploading_a_pdf_creates_version_one_as_current_through_storage(marketer, upload, media_root):
    item = create(marketer, upload)

    version = item.current_version
    assert version.number == 1
    assert version.original_name == "case-study.pdf"
    assert version.content_type == "application/pdf"
    assert version.size == len(PDF)
    assert version.file.name.startswith(f"collateral/{item.pk}/")
    assert (media_root / version.file.name).read_bytes() == PDF


def test_a_new_upload_adds_a_version_makes_it_current_and_keeps_the_old_one(marketer, upload):
    item = create(marketer, upload)
    first = item.current_version

    second = collateral_version_add(collateral_id=item.pk, file=upload("case-study-v2.pdf"), actor=marketer)

    item.refresh_from_db()
    assert second.number == 2
    assert item.current_version == second
    assert list(item.versions.values_list("number", flat=True)) == [2, 1]
    assert first.file.storage.exists(first.file.name)


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        (
            "deck.pptx",
            office("ppt/presentation.xml"),
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
        (
            "brief.docx",
            office("word/document.xml"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("chart.png", PNG, "image/png"),
        ("photo.JPG", JPEG, "image/jpeg"),
        ("demo.mp4", MP4, "video/mp4"),
    ],
)
def test_every_allowed_type_is_accepted_by_content(marketer, upload, name, content, content_type):
    item = create(marketer, upload, file=upload(name, content))

    assert item.current_version.content_type == content_type


def test_an_oversized_file_is_refused_with_the_limit(marketer, upload, settings):
    settings.COLLATERAL_MAX_UPLOAD_BYTES = 20

    with pytest.raises(ValidationError) as error:
        create(marketer, upload, file=upload(content=PDF))

    assert "most allowed is 20 bytes" in file_error(error)


def test_an_empty_file_is_refused(marketer, upload):
    with pytest.raises(ValidationError) as error:
        create(marketer, upload, file=upload(content=b""))

    assert file_error(error) == "The file is empty."


@pytest.mark.parametrize("name", ["setup.exe", "page.html", "logo.svg", "notes.txt", "noextension"])
def test_a_disallowed_type_is_refused_naming_the_allowed_ones(marketer, upload, name):
    with pytest.raises(ValidationError) as error:
        create(marketer, upload, file=upload(name, PDF))

    assert "not allowed" in file_error(error)
    assert ".pdf" in file_error(error)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("price.pdf", PNG),
        ("price.pdf", b"<html><script>alert(1)</script></html>"),
        ("chart.png", PDF),
        ("demo.mp4", JPEG),
        ("deck.pptx", b"PK\x03\x04 not really a zip"),
        ("deck.pptx", office("word/document.xml")),
        ("brief.docx", office("ppt/presentation.xml")),
    ],
)
def test_content_that_does_not_match_the_extension_is_refused(marketer, upload, name, content):
    with pytest.raises(ValidationError) as error:
        create(marketer, upload, file=upload(name, content))

    assert "content is not a" in file_error(error)


@pytest.mark.parametrize(
    "name", ["../../etc/passwd.pdf", "..\\..\\evil.pdf", "a/b.pdf", ".hidden.pdf", "bad\x00name.pdf", ".."]
)
def test_names_with_path_tricks_are_refused(marketer, upload, name):
    item = CollateralFactory(url="")

    with pytest.raises(ValidationError) as error:
        collateral_version_add(collateral_id=item.pk, file=upload(), actor=marketer, name=name)

    assert "file" in error.value.message_dict
    assert not item.versions.exists()


def test_odd_but_harmless_names_are_cleaned(marketer, upload):
    item = create(marketer, upload, file=upload("Q3 pricing (final)!.PDF"))

    assert item.current_version.original_name == "Q3_pricing_final.pdf"


def test_a_url_item_has_no_file_versions(marketer, upload):
    item = CollateralFactory(url="https://example.com/x")

    with pytest.raises(ValidationError) as error:
        collateral_version_add(collateral_id=item.pk, file=upload(), actor=marketer)

    assert "URL" in file_error(error)


def test_file_and_url_together_or_neither_are_refused(marketer, upload):
    with pytest.raises(ValidationError) as both:
        create(marketer, upload, url="https://example.com/x")
    with pytest.raises(ValidationError) as neither:
        create(marketer, upload, file=None)

    assert "url" in both.value.message_dict
    assert "file" in neither.value.message_dict


def test_only_http_urls_are_accepted(marketer, upload):
    with pytest.raises(ValidationError) as error:
        create(marketer, upload, file=None, url="javascript:alert(1)")

    assert "url" in error.value.message_dict


def test_reps_cannot_upload(rep, upload):
    item = CollateralFactory(url="")

    with pytest.raises(PermissionDenied):
        collateral_version_add(collateral_id=item.pk, file=upload(), actor=rep)


def test_unknown_objection_tags_are_refused(marketer, upload):
    with pytest.raises(ValidationError) as error:
        create(marketer, upload, objection_categories=["price", "vibes"])

    assert "vibes" in error.value.message_dict["objection_categories"][0]
