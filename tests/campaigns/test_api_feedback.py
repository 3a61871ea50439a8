import pytest

from leads.models import LifecycleStage
from tests.campaigns.factories import CustomerFeedbackFactory
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db

BASE = "/api/customer-feedback/"


def test_a_rep_enters_and_reads_feedback_for_their_customers_only(api_for, rep, other_rep):
    mine = LeadFactory(owner=rep, stage=LifecycleStage.CUSTOMER)
    CustomerFeedbackFactory(lead=LeadFactory(owner=other_rep, stage=LifecycleStage.CUSTOMER))
    api = api_for(rep)

    created = api.post(BASE, {"lead_id": mine.pk, "rating": 9, "comment": "Happy"}, format="json")
    listed = api.get(BASE).json()

    assert created.status_code == 201 and created.json()["source"] == "rep"
    assert [row["lead_id"] for row in listed["results"]] == [mine.pk]


def test_bad_ratings_and_prospects_are_400s(api_for, rep):
    customer = LeadFactory(owner=rep, stage=LifecycleStage.CUSTOMER)
    prospect = LeadFactory(owner=rep, stage=LifecycleStage.SAL)
    api = api_for(rep)

    too_high = api.post(BASE, {"lead_id": customer.pk, "rating": 11}, format="json")
    not_customer = api.post(BASE, {"lead_id": prospect.pk, "rating": 5}, format="json")

    assert too_high.status_code == 400 and "rating" in too_high.json()["error"]["fields"]
    assert not_customer.status_code == 400 and "lead_id" in not_customer.json()["error"]["fields"]


def test_the_list_query_count_is_constant(api_for, manager, django_assert_num_queries):
    api = api_for(manager)
    CustomerFeedbackFactory()
    api.get(BASE)
    with django_assert_num_queries(2) as few:  # count, page
        api.get(BASE)
    CustomerFeedbackFactory.create_batch(5)
    with django_assert_num_queries(len(few.captured_queries)):
        response = api.get(BASE)

    assert response.json()["count"] == 6
