import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_rep_creates_copies_and_revokes_a_token_in_the_browser(page, live_server, login, make_user, artifacts_dir):
    make_user("Sales rep", username="tokenrep")
    login("tokenrep")
    page.goto(f"{live_server.url}/account/tokens/")
    page.get_by_label("Name").fill("website forms")
    page.get_by_role("button", name="Create token").click()
    page.wait_for_load_state("networkidle")

    key = page.locator("#new-token").inner_text()
    page.screenshot(path=str(artifacts_dir / "api-tokens.png"), full_page=True)
    assert key.startswith("bat_")
    assert page.get_by_role("row", name="website forms").get_by_text("Active").is_visible()

    page.get_by_role("button", name="Revoke website forms").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("revoked; it no longer works").is_visible()
    assert page.locator("#new-token").count() == 0
    assert page.get_by_role("row", name="website forms").get_by_text("Revoked").is_visible()
