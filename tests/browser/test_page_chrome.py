"""The page header in Chromium: one row at 1280 px for every role (the manager's menu and the
search box used to wrap to two rows), and usable at 390 px (nothing wider than the screen,
every menu link reachable, the search box there)."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

ROLES = [
    ("Sales rep", "rita", False),
    ("Marketing", "maya", True),
    ("Sales manager", "morgan", True),
]


def _header(page) -> dict:
    return page.evaluate(
        """() => {
        const header = document.querySelector('header.top');
        const box = header.getBoundingClientRect();
        const search = document.querySelector('#site-search-q').getBoundingClientRect();
        const who = document.querySelector('header.top .who').getBoundingClientRect();
        return {height: box.height, scrollWidth: document.documentElement.scrollWidth,
                viewport: window.innerWidth, searchWidth: search.width, searchTop: search.top,
                whoTop: who.top, whoRight: who.right};
    }"""
    )


@pytest.mark.parametrize(("role", "username", "staff"), ROLES)
def test_the_header_is_one_row_at_1280_px_for_every_role(
    make_user, login, live_server, artifacts_dir, role, username, staff
):
    make_user(role, username=username, password="pw", is_staff=staff)
    page = login(username, "pw")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/marketing/segments/" if staff else f"{live_server.url}/calls/")

    header = _header(page)
    page.screenshot(path=str(artifacts_dir / f"header-1280-{username}.png"))

    # One row of links, buttons and the search box is under 60 px; two rows are over 80.
    assert header["height"] < 60, header
    assert header["scrollWidth"] <= header["viewport"]
    assert header["searchWidth"] >= 160  # still a box one can type a name into
    assert header["whoRight"] <= 1280


def test_the_managers_header_measures_one_row_at_1280_px(make_user, login, live_server):
    make_user("Sales manager", username="morgan", password="pw", is_staff=True)
    page = login("morgan", "pw")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/calls/")
    page.get_by_text("More", exact=True).click()  # the open menu floats below; the row stays one row
    page.get_by_role("link", name="Privacy", exact=True).wait_for()
    row = page.evaluate(
        """() => {
        const tops = [...document.querySelectorAll('header.top > *')]
            .filter(e => e.offsetParent !== null)
            .map(e => { const r = e.getBoundingClientRect(); return Math.round(r.top + r.height / 2); });
        return {tops, height: document.querySelector('header.top').getBoundingClientRect().height};
    }"""
    )
    # Every visible part of the header sits on one line (their middles within a few px).
    assert max(row["tops"]) - min(row["tops"]) <= 6, row
    assert row["height"] < 60, row


@pytest.mark.parametrize(("role", "username", "staff"), ROLES)
def test_the_header_is_usable_at_390_px(make_user, login, live_server, artifacts_dir, role, username, staff):
    make_user(role, username=username, password="pw", is_staff=staff)
    page = login(username, "pw")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/calls/" if not staff else f"{live_server.url}/marketing/segments/")

    header = _header(page)
    page.screenshot(path=str(artifacts_dir / f"header-390-{username}.png"))

    assert header["scrollWidth"] <= 390, header
    assert header["searchWidth"] >= 200
    assert header["whoRight"] <= 390
    # Every menu link is on screen, those under "More" once it is opened.
    page.get_by_text("More", exact=True).click()
    page.screenshot(path=str(artifacts_dir / f"header-390-{username}-more.png"))
    links = page.locator("header.top nav a")
    assert links.count() >= 3
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, (links.nth(i).inner_text(), box)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.locator("#site-search-q").fill("zz")
    assert page.locator("#site-search-q").input_value() == "zz"
