"""Each role logs in through the real log-in page in Chromium and lands where they work."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("role", "username", "staff", "landing"),
    [
        ("Sales rep", "rita", False, "/calls/"),
        ("Marketing", "maya", True, "/marketing/segments/"),
        ("Sales manager", "morgan", True, "/admin/"),
    ],
)
def test_each_role_logs_in_and_lands_on_their_page(
    make_user, login, live_server, artifacts_dir, role, username, staff, landing
):
    make_user(role, username=username, password="pw", is_staff=staff)

    page = login(username, "pw")

    assert page.url == f"{live_server.url}{landing}"
    page.screenshot(path=str(artifacts_dir / f"landing-{username}.png"), full_page=True)


def test_a_wrong_password_keeps_the_person_on_the_login_page_with_a_message(make_user, login, live_server):
    make_user("Sales rep", username="rita", password="pw")

    page = login("rita", "wrong")

    assert "/accounts/login/" in page.url
    assert page.get_by_text("enter a correct username and password").is_visible()
