"""A marketer merges two duplicate leads in Chromium, choosing a field from each; a merge of two
reps' leads is refused to her and done by a manager."""

import pytest
from playwright.sync_api import expect

from leads.duplicates import duplicates_find
from leads.models import Lead, LeadMerge, LifecycleStage
from tests.crm.factories import CallFactory
from tests.leads.factories import EngagementEventFactory, LeadFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_marketer_merges_duplicates_field_by_field(make_user, login, live_server, artifacts_dir):
    make_user("Marketing", username="maya", password="pw", is_staff=True)
    a = LeadFactory(
        first_name="Ada",
        last_name="Lovelace",
        email="ada@analytical.io",
        phone="+44 20 7946 0001",
        title="CEO",
        company="Analytical Engines",
    )
    b = LeadFactory(
        first_name="Ada",
        last_name="Lovelace",
        email="a.lovelace@gmail.example",
        phone="+44 20 7946 0001",
        title="Chief Executive",
        company="Analytical Engines Ltd",
    )
    EngagementEventFactory(lead=b, kind="webinar")
    CallFactory(lead=b)
    duplicates_find()
    page = login("maya")
    page.goto(f"{live_server.url}/marketing/duplicates/")
    page.get_by_role("link", name=f"Merge {a.email} and {b.email}").click()
    expect(page.get_by_role("heading", name="Merge two leads into one")).to_be_visible()
    expect(page.get_by_label(f"Keep lead {a.pk}")).to_be_checked()
    page.get_by_label("Chief Executive").check()
    page.screenshot(path=str(artifacts_dir / "duplicate-merge.png"), full_page=True)
    page.get_by_role("button", name="Merge").click()

    expect(page.get_by_text(f"Lead {b.pk} was merged into lead {a.pk}.")).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "duplicate-merged.png"), full_page=True)
    survivor = Lead.objects.get(pk=a.pk)
    assert (survivor.title, survivor.email) == ("Chief Executive", "ada@analytical.io")
    assert survivor.calls.count() == 1 and survivor.events.count() == 1
    assert not Lead.objects.filter(pk=b.pk).exists()


def test_two_reps_leads_are_refused_to_a_marketer_and_merged_by_a_manager(make_user, login, live_server, artifacts_dir):
    make_user("Marketing", username="maya", password="pw", is_staff=True)
    make_user("Sales manager", username="max", password="pw", is_staff=True)
    rep, other = make_user("Sales rep", username="rita"), make_user("Sales rep", username="ron")
    a = LeadFactory(phone="030 5550001", stage=LifecycleStage.SAL, owner=rep)
    b = LeadFactory(phone="0305550001", stage=LifecycleStage.SAL, owner=other)
    duplicates_find()
    page = login("maya")
    page.goto(f"{live_server.url}/marketing/duplicates/")
    page.get_by_role("link", name=f"Merge {a.email} and {b.email}").click()
    expect(page.get_by_role("note")).to_contain_text("only a sales manager can merge them")
    expect(page.get_by_role("button", name="Merge")).to_have_count(0)
    page.screenshot(path=str(artifacts_dir / "duplicate-merge-refused.png"), full_page=True)

    page.context.clear_cookies()
    page = login("max")
    page.goto(f"{live_server.url}/marketing/duplicates/")
    page.get_by_role("link", name=f"Merge {a.email} and {b.email}").click()
    page.get_by_role("button", name="Merge").click()
    expect(page.get_by_text(f"Lead {b.pk} was merged into lead {a.pk}.")).to_be_visible()
    assert LeadMerge.objects.get().actor.username == "max"
