import pytest

from crm.models import AssignmentStatus
from crm.services.handoff import lead_handoff
from leads.models import Lead, LifecycleStage
from tests.crm.factories import AssignmentFactory, QueueMembershipFactory, SalesQueueFactory
from tests.leads.factories import LeadFactory

pytestmark = pytest.mark.django_db
S = LifecycleStage


@pytest.fixture
def queue(rep, other_rep):
    queue = SalesQueueFactory(name="Inbound")
    QueueMembershipFactory(queue=queue, rep=rep, capacity=50)
    QueueMembershipFactory(queue=queue, rep=other_rep, capacity=50, is_active=False)
    return queue


@pytest.fixture
def mine(queue, rep):
    assignment = lead_handoff(lead_id=LeadFactory(stage=S.MQL).pk)
    assert assignment.rep == rep
    return assignment


@pytest.fixture
def theirs(queue, other_rep):
    return AssignmentFactory(queue=queue, rep=other_rep, lead=LeadFactory(stage=S.HANDED_OFF, owner=other_rep))


def url(assignment=None, verb=""):
    if assignment is None:
        return "/api/assignments/"
    return f"/api/assignments/{assignment.pk}/{verb + '/' if verb else ''}"


# --- reading ---------------------------------------------------------------------------------


def test_a_rep_lists_only_their_own_assignments(api_for, rep, mine, theirs):
    body = api_for(rep).get(url()).json()

    assert [row["id"] for row in body["results"]] == [mine.pk]


def test_another_reps_assignment_is_not_found(api_for, rep, theirs):
    response = api_for(rep).get(url(theirs))

    assert response.status_code == 404
    assert response.json()["error"]["status"] == 404


def test_a_manager_lists_every_assignment(api_for, manager, mine, theirs):
    ids = {row["id"] for row in api_for(manager).get(url()).json()["results"]}

    assert ids == {mine.pk, theirs.pk}


def test_marketing_sees_only_rejected_assignments_with_the_reason(api_for, marketer, rep, mine, theirs):
    api_for(rep).post(url(mine, "reject"), {"reason": "not_a_fit", "note": "Wrong industry"}, format="json")

    rows = api_for(marketer).get(url()).json()["results"]

    assert [(r["id"], r["rejected_reason"], r["rejected_reason_label"], r["rejected_note"]) for r in rows] == [
        (mine.pk, "not_a_fit", "Not a fit", "Wrong industry")
    ]


@pytest.mark.parametrize("role", ["rep", "manager", "marketer"])
def test_the_assignment_list_takes_the_same_number_of_queries_for_more_rows(
    api_for, request, role, queue, rep, django_assert_num_queries
):
    user = request.getfixturevalue(role)
    api = api_for(user)
    status = AssignmentStatus.REJECTED if role == "marketer" else AssignmentStatus.ASSIGNED
    AssignmentFactory(queue=queue, rep=rep, status=status, rejected_reason="duplicate")
    api.get(url())  # caches the user's roles
    # the count, the page
    with django_assert_num_queries(2):
        api.get(url())
    AssignmentFactory.create_batch(5, queue=queue, rep=rep, status=status, rejected_reason="duplicate")

    with django_assert_num_queries(2):
        response = api.get(url())

    assert response.json()["count"] == 6


# --- accept / reject / reassign --------------------------------------------------------------


def test_a_rep_accepts_their_lead(api_for, rep, mine):
    response = api_for(rep).post(url(mine, "accept"))

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["lead_stage"]) == ("accepted", S.SAL)


def test_a_rep_cannot_accept_another_reps_lead(api_for, rep, theirs):
    assert api_for(rep).post(url(theirs, "accept")).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == AssignmentStatus.ASSIGNED


def test_a_rep_rejects_with_a_reason_and_the_lead_goes_back_to_marketing(api_for, rep, mine):
    response = api_for(rep).post(url(mine, "reject"), {"reason": "duplicate"}, format="json")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["rejected_reason"]) == ("rejected", "duplicate")
    assert Lead.objects.get(pk=mine.lead_id).stage == S.RECYCLED


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "reason"),
        ({"reason": "bored"}, "reason"),
        ({"reason": "other"}, "note"),
        ({"reason": "other", "note": ""}, "note"),
    ],
)
def test_a_bad_rejection_is_a_400_naming_the_field(api_for, rep, mine, payload, field):
    response = api_for(rep).post(url(mine, "reject"), payload, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    mine.refresh_from_db()
    assert mine.status == AssignmentStatus.ASSIGNED


def test_accepting_a_rejected_assignment_is_a_400_naming_the_status(api_for, rep, mine):
    api = api_for(rep)
    api.post(url(mine, "reject"), {"reason": "duplicate"}, format="json")

    response = api.post(url(mine, "accept"))

    assert response.status_code == 400
    assert "status" in response.json()["error"]["fields"]


def test_a_manager_reassigns(api_for, manager, other_rep, mine):
    response = api_for(manager).post(url(mine, "reassign"), {"rep_id": other_rep.pk}, format="json")

    assert response.status_code == 200
    assert (response.json()["rep"], response.json()["previous"]) == (other_rep.username, mine.pk)


def test_a_rep_may_not_reassign_their_own_lead(api_for, rep, other_rep, mine):
    response = api_for(rep).post(url(mine, "reassign"), {"rep_id": other_rep.pk}, format="json")

    assert response.status_code == 403


@pytest.mark.parametrize("payload", [{}, {"rep_id": "abc"}, {"rep_id": 999999}])
def test_reassigning_to_no_rep_is_a_400_naming_rep_id(api_for, manager, mine, payload):
    response = api_for(manager).post(url(mine, "reassign"), payload, format="json")

    assert response.status_code == 400
    assert "rep_id" in response.json()["error"]["fields"]


def test_marketing_cannot_answer_for_sales(api_for, marketer, rep, mine):
    api_for(rep).post(url(mine, "reject"), {"reason": "duplicate"}, format="json")

    assert api_for(marketer).post(url(mine, "accept")).status_code == 403


def test_anonymous_users_are_refused(api_client, mine):
    assert api_client.get(url()).status_code in (401, 403)


# --- queues ----------------------------------------------------------------------------------


def test_marketing_and_managers_read_every_queue_with_its_members_and_load(api_for, marketer, manager, queue, mine):
    SalesQueueFactory(name="Partners")
    for user in (marketer, manager):
        rows = api_for(user).get("/api/queues/").json()["results"]

        assert [r["name"] for r in rows] == ["Inbound", "Partners"]
        members = {m["rep"]: m["open_count"] for m in rows[0]["members"]}
        assert members == {"rep_a": 1, "rep_b": 0}


def test_a_rep_reads_only_the_queues_they_work(api_for, rep, queue):
    SalesQueueFactory(name="Partners")

    rows = api_for(rep).get("/api/queues/").json()["results"]

    assert [r["name"] for r in rows] == ["Inbound"]


def test_the_queue_list_takes_the_same_number_of_queries_for_more_queues(
    api_for, manager, queue, django_assert_num_queries
):
    api = api_for(manager)
    api.get("/api/queues/")  # caches the user's roles
    # the count, the page, its members
    with django_assert_num_queries(3):
        api.get("/api/queues/")
    for _ in range(4):
        QueueMembershipFactory(queue=SalesQueueFactory())

    with django_assert_num_queries(3):
        response = api.get("/api/queues/")

    assert response.json()["count"] == 5
