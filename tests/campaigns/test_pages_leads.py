import csv
import datetime
import io
import re

import pytest
from django.utils import timezone

from campaigns.models import CampaignMember, SavedLeadView
from leads.models import Lead, LeadTransition
from tests.campaigns.factories import CampaignFactory, CampaignMemberFactory
from tests.leads.factories import EngagementEventFactory, LeadFactory, ScoringRuleFactory, SegmentFactory

pytestmark = pytest.mark.django_db
LIST = "/marketing/leads/"


def listed(response) -> list[int]:
    return [int(i) for i in re.findall(r'name="lead" value="(\d+)"', response.content.decode())]


def next_link(response) -> str | None:
    match = re.search(r'href="(/marketing/leads/\?[^"]*after=[^"]*)">Next page', response.content.decode())
    return match.group(1).replace("&amp;", "&") if match else None


# --- roles -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", LIST),
        ("get", "/marketing/leads/export/"),
        ("post", "/marketing/leads/bulk/"),
        ("post", "/marketing/leads/views/"),
        ("get", "/marketing/leads/{lead}/"),
        ("post", "/marketing/leads/{lead}/"),
    ],
)
@pytest.mark.parametrize("who", [None, "rep", "other_rep", "manager"])
def test_only_marketing_opens_the_lead_pages(client, client_for, request, method, url, who):
    lead = LeadFactory(industry="software")
    if who == "rep":
        Lead.objects.filter(pk=lead.pk).update(owner=request.getfixturevalue("rep"))
    c = client_for(request.getfixturevalue(who)) if who else client
    response = getattr(c, method)(
        url.format(lead=lead.pk), {"action": "do_not_contact", "lead": [lead.pk]} if method == "post" else None
    )
    assert response.status_code == (302 if who is None else 403)
    if who is None:
        assert "/accounts/login/" in response["Location"]
    lead.refresh_from_db()
    assert lead.do_not_contact is False


# --- filters, sorting, paging --------------------------------------------------------------------


def test_every_filter_narrows_the_list(client_for, marketer, rep):
    now = timezone.now()
    software = SegmentFactory(definition={"field": "industry", "op": "eq", "value": "software"})
    a = LeadFactory(industry="software", stage="mql", source="web_form", score=70, email_opt_in=True, owner=rep)
    b = LeadFactory(industry="retail", stage="new", source="import", score=10, do_not_call=True)
    c = LeadFactory(industry="retail", stage="new", source="import", score=40, do_not_contact=True)
    Lead.objects.filter(pk=c.pk).update(created_at=now - datetime.timedelta(days=40))
    campaign = CampaignFactory()
    CampaignMemberFactory(campaign=campaign, lead=b)
    client = client_for(marketer)
    cases = {
        "stage=mql": {a.pk},
        "stage=mql&stage=new": {a.pk, b.pk, c.pk},
        "source=import": {b.pk, c.pk},
        "score_min=20&score_max=50": {c.pk},
        f"owner={rep.pk}": {a.pk},
        "owner=none": {b.pk, c.pk},
        f"segment={software.pk}": {a.pk},
        f"campaign={campaign.pk}": {b.pk},
        f"created_to={(now - datetime.timedelta(days=30)).date()}": {c.pk},
        f"created_from={(now - datetime.timedelta(days=30)).date()}": {a.pk, b.pk},
        "email_opt_in=yes": {a.pk},
        "do_not_call=yes": {b.pk},
        "do_not_contact=yes": {c.pk},
        "do_not_contact=no": {a.pk, b.pk},
    }
    for query, expected in cases.items():
        response = client.get(f"{LIST}?{query}")
        assert response.status_code == 200, query
        assert set(listed(response)) == expected, query


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("score_min=lots", "Score from: Enter a number."),
        ("score_min=1e300", "Score from: Ensure this value is less than or equal to"),
        ("score_min=50&score_max=10", "Score to: Must not be below"),
        ("segment=99999999999999", "Segment: Ensure this value is less than or equal to"),
        ("segment=424242", "Segment: No such segment."),
        ("campaign=abc", "Campaign: Enter a whole number."),
        ("owner=%00", "NUL character"),
        ("owner=99999999999", "Owner: Choose an owner from the list."),
        ("created_from=yesterday", "Created from: Enter a valid date."),
        ("created_from=2026-05-02&created_to=2026-05-01", "Created to: Must not be before"),
        ("stage=limbo", "Stage: Select a valid choice."),
        ("sort=random", "Sort: Select a valid choice."),
        ("after=not-a-cursor", "Page: This page link is not valid any more"),
        ("email_opt_in=maybe", "Email opt-in: Select a valid choice."),
    ],
)
def test_bad_filters_are_field_errors_not_500s(client_for, marketer, query, message):
    LeadFactory()
    response = client_for(marketer).get(f"{LIST}?{query}")
    assert response.status_code == 400
    assert message in response.content.decode()


@pytest.mark.parametrize("sort", ["-created_at", "created_at", "-score", "score"])
def test_keyset_pages_walk_every_matching_lead_once_in_order(client_for, marketer, sort):
    base = timezone.now()
    for i in range(123):
        lead = LeadFactory(score=float(i % 7))  # ties on score: the id breaks them
        Lead.objects.filter(pk=lead.pk).update(created_at=base - datetime.timedelta(minutes=i % 11))
    client = client_for(marketer)
    seen, url, pages = [], f"{LIST}?sort={sort}", 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        ids = listed(response)
        assert len(ids) <= 50
        seen += ids
        url, pages = next_link(response), pages + 1
    column = sort.lstrip("-")
    ordered = sorted(Lead.objects.values_list(column, "id"), reverse=sort.startswith("-"))
    assert seen == [pk for _value, pk in ordered]
    assert pages == 3


def test_a_page_costs_the_same_queries_for_few_and_many_leads(client_for, marketer, count_queries, rep):
    client = client_for(marketer)
    CampaignFactory()
    SegmentFactory()
    SavedLeadView.objects.create(owner=marketer, name="Hot", query="score_min=50")
    LeadFactory.create_batch(3, owner=rep)
    few = count_queries(lambda: client.get(f"{LIST}?stage=new&sort=-score"))
    LeadFactory.create_batch(80, owner=rep)
    CampaignFactory()
    many = count_queries(lambda: client.get(f"{LIST}?stage=new&sort=-score"))
    second_page = next_link(client.get(f"{LIST}?stage=new&sort=-score"))
    later = count_queries(lambda: client.get(second_page))
    assert few == many == later


# --- bulk actions ------------------------------------------------------------------------------


def test_bulk_add_to_a_campaign_skips_leads_outside_its_audience(client_for, marketer):
    campaign = CampaignFactory(kind="webinar")
    ok = LeadFactory.create_batch(2)
    blocked = LeadFactory(do_not_contact=True)
    response = client_for(marketer).post(
        "/marketing/leads/bulk/",
        {"action": "campaign", "campaign": campaign.pk, "lead": [*(x.pk for x in ok), blocked.pk], "next": LIST},
        follow=True,
    )
    assert "2 members added; 1 skipped: 1 do not contact (opted out)." in response.content.decode()
    assert set(CampaignMember.objects.filter(campaign=campaign).values_list("lead_id", flat=True)) == {x.pk for x in ok}


def test_bulk_add_to_a_campaign_names_each_kind_of_skip(client_for, marketer):
    from django.utils import timezone

    campaign = CampaignFactory(kind="email")
    ok = LeadFactory(email_opt_in=True)
    member = LeadFactory(email_opt_in=True)
    CampaignMember.objects.create(campaign=campaign, lead=member, added_at=timezone.now())
    erased = LeadFactory(erased_at=timezone.now(), do_not_contact=True)
    opted_out = LeadFactory(email_opt_in=True, do_not_contact=True)
    no_opt_in = LeadFactory(email_opt_in=False)
    chosen = [ok.pk, member.pk, erased.pk, opted_out.pk, no_opt_in.pk]

    response = client_for(marketer).post(
        "/marketing/leads/bulk/",
        {"action": "campaign", "campaign": campaign.pk, "lead": chosen, "next": LIST},
        follow=True,
    )

    assert (
        "1 member added; 4 skipped: 1 already a member, 1 erased, 1 do not contact (opted out), "
        "1 not opted in to email."
    ) in response.content.decode()


def test_bulk_mark_do_not_contact(client_for, marketer):
    leads = LeadFactory.create_batch(3)
    response = client_for(marketer).post(
        "/marketing/leads/bulk/", {"action": "do_not_contact", "lead": [x.pk for x in leads[:2]]}, follow=True
    )
    assert "Marked 2 leads do-not-contact." in response.content.decode()
    assert list(
        Lead.objects.filter(do_not_contact=True, do_not_call=True).order_by("pk").values_list("pk", flat=True)
    ) == [x.pk for x in leads[:2]]


def test_bulk_disqualify_records_the_reason_and_skips_leads_with_sales(client_for, marketer):
    new, mql = LeadFactory(stage="new"), LeadFactory(stage="mql")
    with_sales = LeadFactory(stage="sal")
    response = client_for(marketer).post(
        "/marketing/leads/bulk/",
        {
            "action": "disqualify",
            "reason": "competitor",
            "note": "works at Rival",
            "lead": [new.pk, mql.pk, with_sales.pk],
        },
        follow=True,
    )
    assert "Disqualified 2 leads; 1 skipped" in response.content.decode()
    moves = LeadTransition.objects.filter(to_stage="disqualified").order_by("lead_id")
    assert [(m.lead_id, m.reason, m.note, m.actor_id) for m in moves] == [
        (new.pk, "disqualified:competitor", "works at Rival", marketer.pk),
        (mql.pk, "disqualified:competitor", "works at Rival", marketer.pk),
    ]
    assert Lead.objects.get(pk=with_sales.pk).stage == "sal"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "disqualify", "reason": ""}, "Reason: Choose a reason"),
        ({"action": "campaign", "campaign": ""}, "Campaign: Choose a campaign."),
        ({"action": "campaign", "campaign": "424242"}, "Campaign id: Campaign not found."),
        ({"action": "explode"}, "Action: Choose an action."),
        ({"action": "do_not_contact", "lead": []}, "Lead ids: Choose at least one lead."),
        ({"action": "do_not_contact", "lead": ["x"]}, "Lead ids: Lead ids must be whole numbers."),
        ({"action": "do_not_contact", "lead": ["99999999999"]}, "Lead ids: Unknown lead id."),
    ],
)
def test_bulk_mistakes_are_explained(client_for, marketer, data, message):
    lead = LeadFactory()
    data = {"lead": [lead.pk], **data}
    response = client_for(marketer).post("/marketing/leads/bulk/", data, follow=True)
    assert message in response.content.decode()
    assert Lead.objects.get(pk=lead.pk).stage == "new" and not Lead.objects.get(pk=lead.pk).do_not_contact


def test_the_csv_export_has_the_filtered_leads_with_formulas_neutralised(client_for, marketer):
    LeadFactory(first_name='=HYPERLINK("http://evil")', company="+cmd", stage="mql", title="@SUM(1)")
    LeadFactory(first_name="Ann", stage="new")
    response = client_for(marketer).get("/marketing/leads/export/?stage=mql")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 1
    assert rows[0]["first_name"] == '\'=HYPERLINK("http://evil")'
    assert rows[0]["company"] == "'+cmd" and rows[0]["title"] == "'@SUM(1)"


def test_the_csv_export_streams_every_match_past_one_chunk(client_for, marketer, monkeypatch):
    import campaigns.lead_workspace as workspace

    LeadFactory.create_batch(7)
    original = workspace.csv_rows
    monkeypatch.setattr("campaigns.lead_views.csv_rows", lambda data: original(data, chunk=3))
    response = client_for(marketer).get("/marketing/leads/export/")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert sorted(int(r["id"]) for r in rows) == sorted(Lead.objects.values_list("pk", flat=True))


# --- saved views -------------------------------------------------------------------------------


def test_saving_opening_and_deleting_a_view(client_for, marketer, make_user):
    client = client_for(marketer)
    response = client.post(
        "/marketing/leads/views/", {"name": "Hot MQLs", "query": "stage=mql&score_min=50"}, follow=True
    )
    assert "Saved the view" in response.content.decode()
    view = SavedLeadView.objects.get(owner=marketer)
    assert 'href="/marketing/leads/?stage=mql&amp;score_min=50">Hot MQLs</a>' in client.get(LIST).content.decode()
    again = client.post("/marketing/leads/views/", {"name": "Hot MQLs", "query": "x=1"}, follow=True)
    assert "you already have a view called" in again.content.decode()
    other = make_user("Marketing", username="mo")
    assert client_for(other).post(f"/marketing/leads/views/{view.pk}/delete/").status_code == 404
    client = client_for(marketer)
    client.post(f"/marketing/leads/views/{view.pk}/delete/")
    assert not SavedLeadView.objects.exists()


@pytest.mark.parametrize("name", ["", "x" * 101, "a\x00b"])
def test_a_bad_view_name_is_refused(client_for, marketer, name):
    response = client_for(marketer).post("/marketing/leads/views/", {"name": name, "query": "stage=new"}, follow=True)
    assert "View name:" in response.content.decode()
    assert not SavedLeadView.objects.exists()


# --- the lead page -----------------------------------------------------------------------------


def lead_form(lead, **overrides) -> dict:
    data = {
        n: getattr(lead, n) or ""
        for n in (
            "first_name",
            "last_name",
            "email",
            "phone",
            "title",
            "company",
            "company_domain",
            "industry",
            "employees",
            "country",
            "timezone",
            "source",
        )
    }
    data.update({n: "on" for n in ("email_opt_in", "do_not_call", "do_not_contact") if getattr(lead, n)})
    data.update(overrides)
    return data


def test_editing_a_field_a_rule_reads_rescores_the_lead_at_once(client_for, marketer):
    ScoringRuleFactory(name="Finance", field="industry", operator="eq", value="finance", points=25)
    lead = LeadFactory(industry="retail")
    client = client_for(marketer)
    response = client.post(f"/marketing/leads/{lead.pk}/", lead_form(lead, industry="finance"), follow=True)
    assert "Score 0 -&gt; 25." in response.content.decode()
    lead.refresh_from_db()
    assert (lead.industry, lead.score, lead.fit_score) == ("finance", 25, 25)
    assert "<td>Finance</td><td>fit</td><td>25.0</td>" in response.content.decode()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"email": "not-an-email"}, "Email: "),
        ({"employees": "lots"}, "Employees: "),
        ({"employees": "99999999999999"}, "Employees: "),
        ({"country": "Germany"}, "Country (ISO code): "),
        ({"timezone": "Mars/Olympus"}, "Time zone: "),
        ({"first_name": "a\x00b"}, "First name: "),
    ],
)
def test_bad_lead_fields_are_shown_next_to_the_field(client_for, marketer, overrides, message):
    lead = LeadFactory(industry="retail", employees=50)
    response = client_for(marketer).post(f"/marketing/leads/{lead.pk}/", lead_form(lead, **overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    refreshed = Lead.objects.get(pk=lead.pk)
    assert (refreshed.email, refreshed.employees, refreshed.country) == (lead.email, 50, lead.country)


def test_the_lead_page_shows_events_campaigns_history_outcome_and_duplicates(client_for, marketer):
    lead = LeadFactory(first_name="Ada", last_name="Lovelace", company_domain="analytical.io", phone="+44 20 7946 0000")
    twin = LeadFactory(first_name="ada", last_name="LOVELACE", company_domain="analytical.io", phone="")
    same_phone = LeadFactory(phone="+44 (20) 7946-0000")
    LeadFactory(first_name="Ada", last_name="Byron", company_domain="analytical.io")
    EngagementEventFactory(lead=lead, kind="webinar", source_reference="webinar:42")
    CampaignMemberFactory(lead=lead, campaign=CampaignFactory(name="Spring webinar"))
    LeadTransition.objects.create(lead=lead, from_stage="new", to_stage="mql", reason="qualified", at=timezone.now())
    LeadTransition.objects.create(
        lead=lead,
        from_stage="handed_off",
        to_stage="recycled",
        reason="rejected:timing",
        outcome="rejected",
        outcome_reason="timing",
        at=timezone.now(),
    )
    html = client_for(marketer).get(f"/marketing/leads/{lead.pk}/").content.decode()
    assert "Webinar attended" in html and "webinar:42" in html
    assert "Spring webinar" in html
    assert "qualified" in html and "timing" in html
    dup_section = html[html.index('id="dup-h"') : html.index('id="sales-h"')]
    assert f"/marketing/leads/{twin.pk}/" in dup_section and f"/marketing/leads/{same_phone.pk}/" in dup_section
    assert "Byron" not in dup_section


def test_a_missing_lead_is_404(client_for, marketer):
    assert client_for(marketer).get("/marketing/leads/424242/").status_code == 404
