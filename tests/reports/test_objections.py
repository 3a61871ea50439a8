"""Objections report numbers against a hand-made history."""

import datetime

import pytest

from campaigns.models import ObjectionCategory
from leads.models import LifecycleStage
from tests.campaigns.factories import CollateralFactory
from tests.crm.factories import CallFactory, ObjectionNoteFactory
from tests.leads.factories import LeadFactory, LeadTransitionFactory
from tests.reports.conftest import rows_by, run

DAY = datetime.timedelta(days=1)


@pytest.fixture
def history(monday, rep):
    roi = CollateralFactory(title="ROI calculator")
    story = CollateralFactory(title="Customer story")
    software, retail = LeadFactory(industry="software"), LeadFactory(industry="retail")
    won_lead = LeadFactory(industry="software")

    def note(lead, category, *, overcome=False, collateral=None, at=monday, said="Too expensive"):
        return ObjectionNoteFactory(
            call=CallFactory(rep=rep, lead=lead, called_at=at),
            lead=lead,
            category=category,
            overcome=overcome,
            collateral=collateral,
            created_at=at,
            said=said,
        )

    note(software, ObjectionCategory.PRICE, overcome=True, collateral=roi)
    note(retail, ObjectionCategory.PRICE, overcome=True, collateral=roi, at=monday + DAY)
    note(retail, ObjectionCategory.PRICE, overcome=True, collateral=story, at=monday + 2 * DAY)
    note(won_lead, ObjectionCategory.PRICE, at=monday + 3 * DAY, said="=HYPERLINK(evil)")
    note(software, ObjectionCategory.TIMING, at=monday + DAY)
    note(software, ObjectionCategory.COMPETITOR, overcome=True, at=monday - 60 * DAY)  # outside the period
    LeadTransitionFactory(
        lead=won_lead,
        from_stage=LifecycleStage.OPPORTUNITY,
        to_stage=LifecycleStage.CUSTOMER,
        reason="won",
        at=monday + 5 * DAY,
    )
    LeadTransitionFactory(
        lead=retail,
        from_stage=LifecycleStage.HANDED_OFF,
        to_stage=LifecycleStage.RECYCLED,
        reason="rejected:no_budget",
        at=monday + 4 * DAY,
    )


@pytest.mark.django_db
def test_categories_count_overcome_and_what_happened_next(history, period):
    categories = rows_by(run("objections", **period).table("categories"), "category")
    assert set(categories) == {"Price", "Timing"}
    price = categories["Price"]
    assert (price["total"], price["overcome"]) == (4, 3)
    assert price["overcome_rate"] == pytest.approx(0.75)
    assert (price["won"], price["lost"], price["recycled"]) == (1, 0, 2)
    assert price["collateral"] == "ROI calculator (2)"
    assert categories["Timing"]["overcome_rate"] == 0


@pytest.mark.django_db
def test_the_cross_table_breaks_categories_down_by_industry(history, period):
    cross = run("objections", **period, by="industry").table("by_dimension")
    labels = {c.key: c.label for c in cross.columns}
    price = rows_by(cross, "category")["Price"]
    by_industry = {labels[k]: v for k, v in price.items() if k != "category"}
    assert by_industry == {"software": 2, "retail": 2}


@pytest.mark.django_db
def test_recent_notes_show_the_latest_per_category(history, period):
    recent = run("objections", **period).table("recent").rows
    price = [r for r in recent if r["category"] == "Price"]
    assert len(price) == 3
    assert price[0]["said"] == "=HYPERLINK(evil)"


@pytest.mark.django_db
def test_the_category_filter_keeps_one_category(history, period):
    categories = run("objections", **period, category="timing").table("categories").rows
    assert [r["category"] for r in categories] == ["Timing"]
