import io

import pytest

import leads.tasks  # noqa: F401  (registers the tasks run inline)
from leads.duplicates import duplicates_find
from leads.imports import leads_import
from leads.intake import capture_submit
from leads.models import CaptureForm, DuplicatePair, Lead
from tests.leads.factories import LeadFactory
from tests.sent_tasks import run_sent_tasks_inline, task_sends

pytestmark = pytest.mark.django_db


def pairs() -> set[tuple[int, int, str]]:
    return set(DuplicatePair.objects.values_list("lead_a_id", "lead_b_id", "reason"))


def test_the_same_phone_written_differently_is_a_pair():
    a = LeadFactory(phone="+49 (30) 123-4567")
    b = LeadFactory(phone="+49 30 1234567")
    LeadFactory(phone="+49 30 7654321")
    LeadFactory(phone="12345")  # too short to mean anything
    LeadFactory(phone="1-2345")

    assert duplicates_find() == 1

    assert pairs() == {(a.pk, b.pk, "phone")}


def test_the_same_name_at_the_same_company_domain_is_a_pair_in_any_case():
    a = LeadFactory(first_name="Ada", last_name="Lovelace", company_domain="analytical.io", phone="")
    b = LeadFactory(first_name="ADA", last_name="lovelace", company_domain="analytical.io", phone="")
    LeadFactory(first_name="Ada", last_name="Lovelace", company_domain="other.io", phone="")
    LeadFactory(first_name="Ada", last_name="Byron", company_domain="analytical.io", phone="")
    LeadFactory(first_name="", last_name="", company_domain="analytical.io", phone="")
    LeadFactory(first_name="", last_name="", company_domain="analytical.io", phone="")

    duplicates_find()

    assert pairs() == {(a.pk, b.pk, "name_domain")}


def test_a_scoped_run_only_looks_at_pairs_with_the_given_leads():
    a, b = LeadFactory(phone="030 1111111"), LeadFactory(phone="0301111111")
    c, d = LeadFactory(phone="040 2222222"), LeadFactory(phone="0402222222")

    duplicates_find(lead_ids=[d.pk])

    assert pairs() == {(c.pk, d.pk, "phone")}
    assert (a.pk, b.pk, "phone") not in pairs()


def test_running_again_adds_nothing_and_a_dismissed_pair_stays_dismissed():
    LeadFactory(phone="030 1111111")
    LeadFactory(phone="0301111111")
    duplicates_find()
    DuplicatePair.objects.update(dismissed=True)

    assert duplicates_find() == 0

    assert DuplicatePair.objects.get().dismissed is True


def test_a_capture_checks_the_captured_lead_for_duplicates(monkeypatch, django_capture_on_commit_callbacks):
    existing = LeadFactory(first_name="Ada", last_name="Lovelace", company_domain="analytical.io", phone="")
    form = CaptureForm.objects.create(key="demo", name="Demo")
    run_sent_tasks_inline(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        lead, created = capture_submit(
            form=form,
            data={
                "email": "ada@new.example",
                "first_name": "Ada",
                "last_name": "Lovelace",
                "company_domain": "analytical.io",
            },
        )
    assert created
    assert pairs() == {(existing.pk, lead.pk, "name_domain")}


def test_an_import_checks_its_leads_for_duplicates(django_capture_on_commit_callbacks):
    existing = LeadFactory(phone="+44 20 7946 0000")
    data = b"email,first_name,phone\nnew1@example.com,Bo,+44 (20) 7946-0000\nnew2@example.com,Cy,\n"
    with task_sends("leads.tasks.duplicates_find_task") as sent, django_capture_on_commit_callbacks(execute=True):
        leads_import(stream=io.BytesIO(data), dry_run=False)
    new_ids = set(Lead.objects.filter(email__startswith="new").values_list("pk", flat=True))
    assert sent.call_count == 1 and set(sent.call_args.args[0]) == new_ids
    duplicates_find(lead_ids=sent.call_args.args[0])
    assert pairs() == {(existing.pk, Lead.objects.get(email="new1@example.com").pk, "phone")}


def test_every_lead_is_checked_nightly():
    from django.conf import settings

    from config.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["leads-duplicates-nightly"]
    assert entry["task"] == "leads.tasks.duplicates_find_task" and entry["task"] in app.tasks
    LeadFactory(phone="030 1111111")
    LeadFactory(phone="0301111111")
    assert app.tasks[entry["task"]].apply().get() == 1


# --- the page ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["rep", "other_rep"])
def test_reps_neither_see_nor_dismiss_duplicates(client_for, request, who):
    LeadFactory(phone="030 1111111")
    LeadFactory(phone="0301111111")
    duplicates_find()
    pair = DuplicatePair.objects.get()
    client = client_for(request.getfixturevalue(who))
    assert client.get("/marketing/duplicates/").status_code == 403
    assert client.post(f"/marketing/duplicates/{pair.pk}/dismiss/").status_code == 403
    assert DuplicatePair.objects.get().dismissed is False


def test_a_manager_sees_the_duplicates_to_merge_two_reps_leads(client_for, manager):
    LeadFactory(phone="030 1111111")
    LeadFactory(phone="0301111111")
    duplicates_find()
    pair = DuplicatePair.objects.get()
    html = client_for(manager).get("/marketing/duplicates/").content.decode()
    assert f"/marketing/duplicates/{pair.pk}/merge/" in html


def test_anonymous_is_sent_to_log_in(client):
    assert "/accounts/login/" in client.get("/marketing/duplicates/")["Location"]


def test_the_list_shows_each_pair_with_its_reason_and_a_pair_can_be_dismissed(client_for, marketer):
    a = LeadFactory(phone="030 1111111", email="a@x.example")
    b = LeadFactory(phone="0301111111", email="b@x.example")
    duplicates_find()
    client = client_for(marketer)
    html = client.get("/marketing/duplicates/").content.decode()
    assert "a@x.example" in html and "b@x.example" in html and "Same phone number" in html
    assert f"/marketing/leads/{a.pk}/" in html and f"/marketing/leads/{b.pk}/" in html
    pair = DuplicatePair.objects.get()
    response = client.post(f"/marketing/duplicates/{pair.pk}/dismiss/", follow=True)
    assert "Dismissed" in response.content.decode() and "No possible duplicates." in response.content.decode()
    again = client.post(f"/marketing/duplicates/{pair.pk}/dismiss/", follow=True)
    assert "not open any more" in again.content.decode()


def test_the_list_costs_the_same_queries_for_few_and_many_pairs(client_for, marketer, count_queries):
    client = client_for(marketer)
    for i in range(2):
        LeadFactory(phone=f"030 11111{i}1")
        LeadFactory(phone=f"030-11111{i}1")
    duplicates_find()
    few = count_queries(lambda: client.get("/marketing/duplicates/"))
    for i in range(20):
        LeadFactory(phone=f"040 22222{i:02d}")
        LeadFactory(phone=f"040-22222{i:02d}")
    duplicates_find()
    assert DuplicatePair.objects.count() == 22
    assert count_queries(lambda: client.get("/marketing/duplicates/")) == few
