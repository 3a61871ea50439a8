import pytest
from django.urls import reverse

from campaigns.models import Campaign, CampaignKind, CampaignMember, Collateral, MemberStatus
from leads.models import EngagementEvent, LifecycleStage
from tests.campaigns.conftest import PDF, PNG
from tests.campaigns.factories import (
    CampaignFactory,
    CampaignMemberFactory,
    CollateralFactory,
    CollateralShareFactory,
    CollateralVersionFactory,
)
from tests.leads.factories import LeadFactory, LeadTransitionFactory, SegmentFactory

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"campaigns:{name}", args=args)


# --- roles -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "campaigns_status", "library_status"),
    [("marketer", 200, 200), ("manager", 200, 200), ("rep", 403, 200)],
)
def test_who_reads_which_page(request, client_for, who, campaigns_status, library_status):
    client = client_for(request.getfixturevalue(who))

    assert client.get(url("campaign-list")).status_code == campaigns_status
    assert client.get(url("library")).status_code == library_status


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(url("campaign-list"))

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_people_without_a_role_are_refused(client_for, make_user):
    client = client_for(make_user())

    assert client.get(url("library")).status_code == 403


@pytest.mark.parametrize("who", ["rep", "manager"])
def test_only_marketing_writes(request, client_for, who):
    client = client_for(request.getfixturevalue(who))
    campaign = CampaignFactory()
    item = CollateralFactory()

    assert client.get(url("campaign-create")).status_code == 403
    assert client.post(url("campaign-members-add", campaign.pk)).status_code == 403
    assert client.get(url("collateral-create")).status_code == 403
    assert client.post(url("collateral-archive", item.pk)).status_code == 403


def test_a_rep_sees_only_current_items_in_the_library(client_for, rep):
    CollateralFactory(title="Live one")
    archived = CollateralFactory(title="Old one", is_archived=True)

    response = client_for(rep).get(url("library"))

    assert b"Live one" in response.content and b"Old one" not in response.content
    assert client_for(rep).get(url("collateral-detail", archived.pk)).status_code == 404


# --- query counts ------------------------------------------------------------------------------


def test_campaign_list_query_count_is_constant(client_for, marketer, django_assert_num_queries):
    client = client_for(marketer)
    CampaignMemberFactory(campaign=CampaignFactory())
    client.get(url("campaign-list"))
    with django_assert_num_queries(5) as few:  # session, user, roles, page count, campaigns
        client.get(url("campaign-list"))
    for _ in range(6):
        CampaignMemberFactory(campaign=CampaignFactory(target_segment=SegmentFactory()))
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(url("campaign-list"))

    assert len(response.context["page"].object_list) == 7


def test_campaign_detail_members_query_count_is_constant(client_for, marketer, django_assert_num_queries):
    client = client_for(marketer)
    campaign = CampaignFactory()
    CampaignMemberFactory(campaign=campaign)
    client.get(url("campaign-detail", campaign.pk))
    with django_assert_num_queries(7) as few:
        client.get(url("campaign-detail", campaign.pk))
    CampaignMemberFactory.create_batch(10, campaign=campaign)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(url("campaign-detail", campaign.pk))

    assert len(response.context["page"].object_list) == 11


@pytest.mark.parametrize("who", ["marketer", "manager", "rep"])
def test_library_query_count_is_constant(request, client_for, who, django_assert_num_queries):
    client = client_for(request.getfixturevalue(who))

    def add_item():
        item = CollateralFactory(url="")
        item.current_version = CollateralVersionFactory(collateral=item)
        item.save()
        item.approved_segments.set([SegmentFactory()])
        CollateralShareFactory(collateral=item)

    add_item()
    client.get(url("library"))
    client.get(url("library"))
    # session, user, roles, page count, items, approved segments (+ outcome totals for marketing)
    with django_assert_num_queries(7 if who != "rep" else 6) as few:
        client.get(url("library"))
    for _ in range(5):
        add_item()
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(url("library"))

    assert len(response.context["page"].object_list) == 6


# --- campaign pages -----------------------------------------------------------------------------


def test_a_marketer_creates_a_campaign(client_for, marketer):
    response = client_for(marketer).post(
        url("campaign-create"),
        {"name": "Spring webinar", "kind": "webinar", "status": "planned", "budget": "100", "actual_cost": "0"},
    )

    campaign = Campaign.objects.get(name="Spring webinar")
    assert response.status_code == 302 and response["Location"] == url("campaign-detail", campaign.pk)
    assert campaign.owner == marketer


def test_a_bad_campaign_form_shows_the_error_on_the_field(client_for, marketer):
    CampaignFactory(name="Taken")

    response = client_for(marketer).post(
        url("campaign-create"),
        {"name": "taken", "kind": "webinar", "status": "planned", "budget": "0", "actual_cost": "0"},
    )

    assert response.status_code == 200
    assert "already exists" in response.context["form"].errors["name"][0]


def test_members_from_a_segment_then_a_response_through_htmx(client_for, marketer):
    client = client_for(marketer)
    segment = SegmentFactory(definition={"field": "industry", "op": "eq", "value": "software"})
    campaign = CampaignFactory(kind=CampaignKind.WEBINAR, target_segment=segment)
    lead = LeadFactory(industry="software")

    client.post(url("campaign-members-add", campaign.pk), {"segment": ""})
    member = CampaignMember.objects.get(campaign=campaign, lead=lead)
    response = client.post(url("campaign-member-response", campaign.pk, member.pk), HTTP_HX_REQUEST="true")

    member.refresh_from_db()
    assert member.status == MemberStatus.RESPONDED
    assert response.status_code == 200 and f'id="member-{member.pk}"'.encode() in response.content
    assert EngagementEvent.objects.filter(lead=lead).exists()


def test_add_members_says_how_many_were_added_and_skipped_and_why(client_for, marketer):
    from django.utils import timezone

    segment = SegmentFactory(definition={"field": "industry", "op": "eq", "value": "software"})
    campaign = CampaignFactory(kind=CampaignKind.EMAIL, target_segment=segment)
    LeadFactory.create_batch(3, industry="software", email_opt_in=True)
    CampaignMemberFactory(campaign=campaign, lead=LeadFactory(industry="software", email_opt_in=True))
    LeadFactory(industry="software", erased_at=timezone.now(), do_not_contact=True)
    LeadFactory.create_batch(2, industry="software", email_opt_in=True, do_not_contact=True)
    LeadFactory(industry="software", email_opt_in=False)

    response = client_for(marketer).post(url("campaign-members-add", campaign.pk), {"segment": ""}, follow=True)

    assert (
        "3 members added; 5 skipped: 1 already a member, 1 erased, 2 do not contact (opted out), "
        "1 not opted in to email."
    ) in response.content.decode()


def test_adding_a_member_twice_through_the_page_shows_the_error(client_for, marketer):
    client = client_for(marketer)
    member = CampaignMemberFactory()

    response = client.post(
        url("campaign-member-add", member.campaign_id), {"lead_email": member.lead.email}, follow=True
    )

    assert "already a member" in response.content.decode()


def test_the_influence_panel_credits_outcomes_of_members(client_for, marketer):
    campaign = CampaignFactory()
    member = CampaignMemberFactory(campaign=campaign)
    LeadTransitionFactory(
        lead=member.lead, from_stage=LifecycleStage.OPPORTUNITY, to_stage=LifecycleStage.CUSTOMER, reason="won"
    )

    response = client_for(marketer).get(url("campaign-influence", campaign.pk), {"model": "first"})

    assert response.context["won_outcomes"] == 1
    assert response.context["won_credit"] == 1.0


# --- library pages --------------------------------------------------------------------------------


def test_a_marketer_uploads_an_item_and_a_new_version(client_for, marketer, upload):
    client = client_for(marketer)

    response = client.post(
        url("collateral-create"),
        {"title": "Story", "kind": "case_study", "file": upload("story.pdf"), "objection_categories": ["price"]},
    )
    item = Collateral.objects.get(title="Story")
    client.post(url("collateral-version-upload", item.pk), {"file": upload("story-2.pdf", PDF + b"%2")})

    item.refresh_from_db()
    assert response.status_code == 302
    assert item.current_version.number == 2
    assert item.objection_categories == ["price"]


def test_a_file_whose_content_does_not_match_is_shown_on_the_form(client_for, marketer, upload):
    response = client_for(marketer).post(
        url("collateral-create"), {"title": "Story", "kind": "case_study", "file": upload("story.pdf", PNG)}
    )

    assert response.status_code == 200
    assert "content is not a PDF" in response.context["form"].errors["file"][0]
    assert not Collateral.objects.exists()


def test_archiving_hides_the_item_from_reps(client_for, marketer, rep):
    item = CollateralFactory()

    client_for(marketer).post(url("collateral-archive", item.pk), {"archived": "1"})

    item.refresh_from_db()
    assert item.is_archived
    assert item not in client_for(rep).get(url("library")).context["page"].object_list


def test_stale_filter_lists_expired_items(client_for, marketer):
    import datetime

    from django.utils import timezone

    CollateralFactory(title="Expired", expires_on=timezone.localdate() - datetime.timedelta(days=1))
    CollateralFactory(title="Fresh")

    response = client_for(marketer).get(url("library"), {"show": "stale"})

    assert [i.title for i in response.context["page"].object_list] == ["Expired"]


def test_reps_download_only_the_current_version(client_for, rep, marketer, upload):
    from campaigns.services.collateral import collateral_create, collateral_version_add

    item = collateral_create(actor=marketer, title="S", kind="case_study", file=upload("a.pdf"))
    collateral_version_add(collateral_id=item.pk, file=upload("b.pdf", PDF + b"%b"), actor=marketer)

    current = client_for(rep).get(url("collateral-download", item.pk))
    old = client_for(rep).get(url("collateral-download-version", item.pk, 1))

    assert b"".join(current.streaming_content) == PDF + b"%b"
    assert old.status_code == 404


def test_an_oversized_upload_on_the_page_is_refused_with_the_limit(client_for, marketer, upload, settings):
    settings.COLLATERAL_MAX_UPLOAD_BYTES = 1024

    response = client_for(marketer).post(
        url("collateral-create"),
        {"title": "Big", "kind": "video", "file": upload("big.pdf", PDF + b"0" * (200 * 1024))},
    )

    assert response.status_code == 400
    assert "most allowed is 1,024 bytes" in response.context["upload_error"]
    assert not Collateral.objects.exists()


def test_library_usage_counts_outcomes_after_a_share_and_compares_win_rates(client_for, marketer):
    import datetime

    from django.utils import timezone

    now = timezone.now()
    item = CollateralFactory(title="Story")
    won_after, lost_after, won_before, won_without = LeadFactory.create_batch(4)
    for lead in (won_after, lost_after):
        CollateralShareFactory(collateral=item, lead=lead, shared_at=now - datetime.timedelta(days=5))
    CollateralShareFactory(collateral=item, lead=won_before, shared_at=now)
    for lead, reason in ((won_after, "won"), (lost_after, "lost:price"), (won_before, "won"), (won_without, "won")):
        LeadTransitionFactory(
            lead=lead,
            from_stage=LifecycleStage.OPPORTUNITY,
            to_stage=LifecycleStage.CUSTOMER if reason == "won" else LifecycleStage.RECYCLED,
            reason=reason,
            at=now - datetime.timedelta(days=1),
        )

    row = client_for(marketer).get(url("library")).context["page"].object_list[0]

    assert (row.deals_influenced, row.won_with, row.lost_with) == (2, 1, 1)
    assert row.win_rate_used == 0.5
    assert row.win_rate_not_used == 1.0


def test_collateral_detail_query_count_is_constant_in_versions_and_shares(
    client_for, marketer, django_assert_num_queries
):
    client = client_for(marketer)
    item = CollateralFactory(url="")
    item.current_version = CollateralVersionFactory(collateral=item, uploaded_by=marketer)
    item.save()
    CollateralShareFactory(collateral=item)
    client.get(url("collateral-detail", item.pk))
    with django_assert_num_queries(7) as few:
        client.get(url("collateral-detail", item.pk))
    CollateralVersionFactory.create_batch(4, collateral=item, uploaded_by=marketer)
    CollateralShareFactory.create_batch(4, collateral=item)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(url("collateral-detail", item.pk))

    assert len(response.context["shares"]) == 5
