import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_login_page_has_labelled_username_and_password(client):
    response = client.get("/accounts/login/")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<label for="id_username">Username</label>' in html
    assert '<label for="id_password">Password</label>' in html


def test_a_rep_logs_in_and_lands_on_the_call_list(client, make_user):
    make_user("Sales rep", username="carla", password="s3cret-pass")

    response = client.post("/accounts/login/", {"username": "carla", "password": "s3cret-pass"}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("crm:call-list")
    assert response.status_code == 200


def test_a_marketer_lands_on_the_segments(client, make_user):
    make_user("Marketing", username="mia", password="s3cret-pass", is_staff=True)

    response = client.post("/accounts/login/", {"username": "mia", "password": "s3cret-pass"}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("leads:segment-list")


def test_a_manager_lands_in_the_admin(client, make_user):
    make_user("Sales manager", username="max", password="s3cret-pass", is_staff=True)

    response = client.post("/accounts/login/", {"username": "max", "password": "s3cret-pass"}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("admin:index")


def test_a_wrong_password_is_refused_with_a_message(client, make_user):
    make_user("Sales rep", username="carla", password="s3cret-pass")

    response = client.post("/accounts/login/", {"username": "carla", "password": "nope"})

    assert response.status_code == 200
    assert "enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_pages_need_a_login(client):
    response = client.get(reverse("crm:call-list"))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_health_check_answers(client):
    assert client.get("/healthz/").json() == {"status": "ok"}
