"""A marketer runs a campaign from a segment in Chromium: members come from the segment, a
response is recorded with htmx (the row updates in place) and the library takes an upload."""

import pytest

from campaigns.models import CampaignMember, Collateral, MemberStatus
from leads.models import EngagementEvent
from tests.campaigns.conftest import PDF
from tests.campaigns.factories import CampaignFactory
from tests.leads.factories import LeadFactory, SegmentFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_marketer_adds_members_from_a_segment_and_records_a_response(make_user, login, live_server, artifacts_dir):
    make_user("Marketing", username="maya", password="pw", is_staff=True)
    segment = SegmentFactory(name="Software", definition={"field": "industry", "op": "eq", "value": "software"})
    campaign = CampaignFactory(name="Spring webinar", target_segment=segment)
    lead = LeadFactory(industry="software", email="ada@example.com")

    page = login("maya")
    page.goto(f"{live_server.url}/marketing/campaigns/{campaign.pk}/")
    page.get_by_role("button", name="Add members").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("1 member added.").is_visible()

    page.get_by_role("button", name="Record response").click()
    page.locator(f"#member-{CampaignMember.objects.get(lead=lead).pk} .badge", has_text="Responded").wait_for()
    page.screenshot(path=str(artifacts_dir / "campaign-detail.png"), full_page=True)

    assert CampaignMember.objects.get(lead=lead).status == MemberStatus.RESPONDED
    assert EngagementEvent.objects.filter(lead=lead).exists()


def test_a_marketer_uploads_collateral_through_the_form(make_user, login, live_server, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    make_user("Marketing", username="maya", password="pw", is_staff=True)
    pdf = tmp_path / "story.pdf"
    pdf.write_bytes(PDF)

    page = login("maya")
    page.goto(f"{live_server.url}/marketing/library/new/")
    page.get_by_label("Title").fill("Customer story")
    page.get_by_label("Kind").select_option("case_study")
    page.get_by_label("File").set_input_files(str(pdf))
    page.get_by_label("Price").check()
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state("networkidle")

    item = Collateral.objects.get(title="Customer story")
    assert page.get_by_text("added to the library").is_visible()
    assert item.current_version.original_name == "story.pdf"
    assert item.objection_categories == ["price"]
