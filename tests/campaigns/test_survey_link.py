import pytest

from campaigns.models import CampaignKind, CustomerFeedback
from campaigns.services.feedback import survey_token
from leads.models import LifecycleStage
from tests.campaigns.factories import CampaignFactory, CampaignMemberFactory
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def member():
    return CampaignMemberFactory(
        campaign=CampaignFactory(kind=CampaignKind.SURVEY), lead=LeadFactory(stage=LifecycleStage.CUSTOMER)
    )


def test_a_customer_answers_the_survey_link(client, member):
    link = f"/s/{survey_token(member)}/"

    assert client.get(link).status_code == 200
    response = client.post(link, {"rating": "8", "comment": "Good"})

    assert b"Your answer has been recorded" in response.content
    assert CustomerFeedback.objects.get().rating == 8


def test_a_rating_out_of_range_shows_an_error(client, member):
    response = client.post(f"/s/{survey_token(member)}/", {"rating": "11"})

    assert response.status_code == 200
    assert "rating" in response.context["form"].errors
    assert not CustomerFeedback.objects.exists()


def test_a_second_visit_says_already_answered(client, member):
    link = f"/s/{survey_token(member)}/"
    client.post(link, {"rating": "8"})

    response = client.get(link)

    assert b"already been answered" in response.content


def test_a_bad_token_is_a_plain_404(client):
    response = client.get("/s/forged:token/")

    assert response.status_code == 404 and response.content == b"Not found."
