import pytest

from leads.duplicates import duplicates_find
from leads.models import DuplicatePair, Lead, LeadMerge, LifecycleStage
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db


def _pair(**merged_fields):
    a = LeadFactory(phone="030 1111111", first_name="Ada", title="CEO", email="ada@x.example")
    b = LeadFactory(phone="0301111111", first_name="Adah", title="CEO", email="adah@x.example", **merged_fields)
    duplicates_find()
    return a, b, DuplicatePair.objects.get()


def test_the_page_shows_both_leads_side_by_side_with_a_radio_per_differing_field(client_for, marketer):
    a, b, pair = _pair()

    html = client_for(marketer).get(f"/marketing/duplicates/{pair.pk}/merge/").content.decode()

    assert 'name="field_first_name"' in html and 'name="field_email"' in html
    assert 'name="field_title"' not in html  # the same on both
    assert f'name="survivor" value="{a.pk}" checked' in html  # older, same stage
    assert f'name="field_first_name" value="{a.pk}" checked' in html


def test_posting_the_choices_merges_and_goes_back_to_the_list(client_for, marketer):
    a, b, pair = _pair()

    response = client_for(marketer).post(
        f"/marketing/duplicates/{pair.pk}/merge/",
        {"survivor": a.pk, "field_first_name": b.pk, "field_email": a.pk, "field_phone": a.pk},
        follow=True,
    )

    assert f"Lead {b.pk} was merged into lead {a.pk}." in response.content.decode()
    assert Lead.objects.get(pk=a.pk).first_name == "Adah"
    assert not Lead.objects.filter(pk=b.pk).exists()
    assert LeadMerge.objects.get().actor == marketer


@pytest.mark.parametrize(
    ("data", "field"),
    [({"survivor": "nope"}, "survivor"), ({"field_first_name": "12345678"}, "first_name")],
)
def test_a_bad_choice_is_shown_next_to_its_field(client_for, marketer, data, field):
    a, b, pair = _pair()

    response = client_for(marketer).post(f"/marketing/duplicates/{pair.pk}/merge/", {"survivor": a.pk, **data})

    assert response.status_code == 400
    assert f'id="{field}-err"' in response.content.decode()
    assert Lead.objects.filter(pk=b.pk).exists()


def test_a_marketer_is_refused_two_reps_leads_clearly(client_for, marketer, rep, other_rep):
    a, b, pair = _pair()
    Lead.objects.filter(pk=a.pk).update(stage=LifecycleStage.SAL, owner=rep)
    Lead.objects.filter(pk=b.pk).update(stage=LifecycleStage.SAL, owner=other_rep)
    client = client_for(marketer)

    page = client.get(f"/marketing/duplicates/{pair.pk}/merge/").content.decode()
    response = client.post(f"/marketing/duplicates/{pair.pk}/merge/", {"survivor": a.pk})

    assert "only a sales manager can merge them" in page and ">Merge</button>" not in page
    assert response.status_code == 403
    assert "only a sales manager can merge them" in response.content.decode()
    assert Lead.objects.filter(pk=b.pk).exists()


def test_a_manager_merges_two_reps_leads(client_for, manager, rep, other_rep):
    a, b, pair = _pair()
    Lead.objects.filter(pk=a.pk).update(stage=LifecycleStage.SAL, owner=rep)
    Lead.objects.filter(pk=b.pk).update(stage=LifecycleStage.SAL, owner=other_rep)

    response = client_for(manager).post(f"/marketing/duplicates/{pair.pk}/merge/", {"survivor": a.pk})

    assert response.status_code == 302
    assert not Lead.objects.filter(pk=b.pk).exists()


@pytest.mark.parametrize("who", ["rep", "other_rep"])
def test_reps_cannot_open_or_post_the_merge_page(client_for, request, who):
    a, b, pair = _pair()
    client = client_for(request.getfixturevalue(who))
    assert client.get(f"/marketing/duplicates/{pair.pk}/merge/").status_code == 403
    assert client.post(f"/marketing/duplicates/{pair.pk}/merge/", {"survivor": a.pk}).status_code == 403
    assert Lead.objects.filter(pk=b.pk).exists()


def test_anonymous_is_sent_to_log_in(client):
    a, b, pair = _pair()
    assert "/accounts/login/" in client.get(f"/marketing/duplicates/{pair.pk}/merge/")["Location"]


def test_a_dismissed_pair_has_no_merge_page(client_for, marketer):
    a, b, pair = _pair()
    DuplicatePair.objects.update(dismissed=True)
    assert client_for(marketer).get(f"/marketing/duplicates/{pair.pk}/merge/").status_code == 404
