"""Every role walks through its pages in a real browser, at phone width, with axe on each."""

import re

import pytest

from uphold.accounts.services import totp_code

from .conftest import checked, fresh_code, log_in, screenshot

PAGES = {
    "admin": ["/", "/admin/accounts/", "/admin/health/", "/account/password/"],
    "support": [
        "/",
        "/p/kestrel/",
        "/p/kestrel/members/",
        "/p/kestrel/members/invite/",
        "/p/kestrel/audit/",
        "/p/kestrel/documents/",
        "/p/new/",
        "/p/kestrel/demands/",
        "/p/kestrel/demands/1/",
        "/p/kestrel/demands/new/",
        "/p/kestrel/letter/",
        "/p/kestrel/letter/sent/",
        "/p/kestrel/letter/versions/1/",
        "/p/kestrel/demands/1/propose/",
        "/p/kestrel/demands/1/progress/",
        "/account/settings/",
        "/p/kestrel/settings/",
        "/p/kestrel/log/",
        "/p/kestrel/log/?q=programme",
        "/p/kestrel/log/10/",
        "/p/kestrel/steps/1/",
        "/p/kestrel/reflections/",
        "/p/kestrel/reflections/1/",
        "/p/kestrel/people/",
        "/p/kestrel/people/6/",
        "/p/kestrel/informing/",
        "/p/kestrel/survivor/",
        "/p/kestrel/survivor/preferences/",
        "/p/kestrel/reports/?kind=survivor-update",
    ],
    "contact": [
        "/",
        "/p/kestrel/",
        "/p/kestrel/members/",
        "/p/kestrel/members/invite/",
        "/p/kestrel/demands/",
        "/p/kestrel/letter/sent/",
        "/p/kestrel/demands/1/",
        "/p/kestrel/demands/1/progress/",
        "/p/kestrel/demands/1/answer/",
        "/p/kestrel/log/",
        "/p/kestrel/log/new/",
        "/p/kestrel/log/10/",
        "/p/kestrel/log/10/edit/",
        "/p/kestrel/meetings/",
        "/p/kestrel/meetings/new/",
        "/p/kestrel/meetings/past/",
        "/p/kestrel/meetings/1/",
        "/p/kestrel/meetings/1/outcome/",
        "/p/kestrel/steps/",
        "/p/kestrel/steps/new/",
        "/p/kestrel/steps/1/",
        "/p/kestrel/steps/1/change/",
        "/p/kestrel/calendar/",
        "/p/kestrel/settings/",
        "/p/kestrel/reflections/",
        "/p/kestrel/reflections/new/",
        "/p/kestrel/reflections/1/",
        "/p/kestrel/reflections/1/review/",
        "/p/kestrel/reviews/1/",
        "/p/kestrel/reviews/1/edit/",
        "/p/kestrel/reviews/1/release/",
        "/p/kestrel/released/",
        "/p/kestrel/people/",
        "/p/kestrel/people/?kind=circle",
        "/p/kestrel/people/new/",
        "/p/kestrel/people/1/",
        "/p/kestrel/people/1/edit/",
        "/p/kestrel/people/1/informed/",
        "/p/kestrel/people/5/informed/",
        "/p/kestrel/people/3/stance/",
        "/p/kestrel/informing/",
        "/p/kestrel/requests/",
        "/p/kestrel/settings/",
    ],
    "survivor": [
        "/",
        "/p/kestrel/",
        "/p/kestrel/demands/",
        "/p/kestrel/demands/1/",
        "/p/kestrel/demands/1/propose/",
        "/p/kestrel/settings/",
        "/p/kestrel/released/",
        "/p/kestrel/reports/released/",
        "/p/kestrel/survivor/",
        "/p/kestrel/survivor/preferences/",
        "/p/kestrel/survivor/access/",
        "/account/password/",
        "/account/confirm/",
        "/account/recover/",
    ],
    "community": [
        "/",
        "/p/kestrel/",
        "/p/kestrel/demands/",
        "/p/kestrel/demands/1/",
        "/p/kestrel/reports/released/",
    ],
    # His overview is his portal, where the page lands.
    "respondent": ["/", "/p/kestrel/", "/p/kestrel/portal/", "/account/settings/"],
}


@pytest.mark.parametrize("role", list(PAGES))
def test_each_role_sees_its_pages_without_accessibility_violations(role, page_as, server, visits):
    page = page_as(role)
    for path in PAGES[role]:
        response = page.goto(server["url"] + path)
        assert response.status == 200, path
        checked(page, visits)
    screenshot(page, f"{role}-last")


def test_the_login_page_lists_the_demo_accounts_and_logs_in(fresh_page, server, visits):
    page = fresh_page
    page.goto(f"{server['url']}/login/")
    checked(page, visits)
    table = page.get_by_role("table")
    for role in ("support", "contact", "respondent"):
        assert table.get_by_text(server["accounts"][role]["username"], exact=True).count() == 1
    log_in(page, server, "contact", visits)
    checked(page, visits)
    assert page.get_by_role("link", name="kestrel").is_visible()


def test_a_wrong_code_is_refused_with_a_clear_message(fresh_page, server, visits):
    page = fresh_page
    account = server["accounts"]["community"]
    page.goto(f"{server['url']}/login/")
    page.get_by_label("Username").fill(account["username"])
    page.get_by_label("Password").fill(account["password"])
    page.get_by_label("Code from your authenticator app").fill("12345x")
    page.get_by_role("button", name="Log in").click()
    checked(page, visits)
    assert page.get_by_text("Enter the six digits the app shows.").is_visible()


def test_the_keyboard_alone_logs_in(fresh_page, server, visits):
    page = fresh_page
    account = server["accounts"]["respondent"]
    page.goto(f"{server['url']}/login/")
    checked(page, visits)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Skip to content"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Uphold"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Leave quickly"
    page.keyboard.press("Tab")
    page.keyboard.type(account["username"])
    page.keyboard.press("Tab")
    page.keyboard.type(account["password"])
    page.keyboard.press("Tab")
    page.keyboard.type(fresh_code(account))
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server['url']}/")
    checked(page, visits)


def test_leave_quickly_shows_a_neutral_site_and_ends_the_session(browser, server, visits):
    from .conftest import PHONE

    context = browser.new_context(viewport=PHONE)
    context.route("https://www.wikipedia.org/**", lambda route: route.fulfill(body="neutral"))
    page = context.new_page()
    visits.track(page)
    log_in(page, server, "survivor", visits)
    checked(page, visits)
    with page.expect_request(f"{server['url']}/leave/"):
        page.get_by_role("button", name="Leave quickly").click()
    page.wait_for_url("https://www.wikipedia.org/")
    assert page.content().count("neutral") == 1
    # The beacon that ends the session is sent, not awaited: give the server a moment.
    for _ in range(25):
        response = page.goto(f"{server['url']}/")
        if re.search(r"/login/", page.url):
            break
        checked(page, visits)
        page.wait_for_timeout(200)
    assert re.search(r"/login/", page.url), "the session should have ended"
    assert response.status == 200
    checked(page, visits)
    context.close()


def test_escape_twice_leaves_quickly(fresh_page, server, visits):
    page = fresh_page
    page.context.route("https://www.wikipedia.org/**", lambda route: route.fulfill(body="neutral"))
    page.goto(f"{server['url']}/login/")
    checked(page, visits)
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.wait_for_url("https://www.wikipedia.org/")


def test_pages_switch_to_german(fresh_page, server, visits):
    page = fresh_page
    page.goto(f"{server['url']}/login/")
    checked(page, visits)
    page.get_by_label("Language").select_option("de")
    page.get_by_role("button", name="Change").click()
    page.wait_for_selector("html[lang=de]")
    checked(page, visits)
    assert page.get_by_role("heading", name="Anmelden").is_visible()


def test_an_invitation_leads_to_a_working_account(page_as, fresh_page, server, visits):
    support = page_as("support")
    support.goto(f"{server['url']}/p/kestrel/members/invite/")
    checked(support, visits)
    support.get_by_label("Role of the person you invite").select_option("contact")
    support.get_by_role("button", name="Make an invitation link").click()
    checked(support, visits)
    link = support.get_by_label("Invitation link").input_value()
    assert "/invite/" in link

    page = fresh_page
    page.goto(link)
    checked(page, visits)
    key = page.locator("code.secret").inner_text().replace(" ", "")
    import base64

    key_hex = base64.b32decode(key).hex()
    page.get_by_label("Username").fill("glasgow-volunteer")
    page.get_by_label("Password", exact=True).fill("three unrelated words here")
    page.get_by_label("Password again").fill("three unrelated words here")
    page.get_by_label("Code from your authenticator app").fill(totp_code(key_hex))
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_selector("ol.words")
    checked(page, visits)
    assert page.locator("ol.words li").count() == 24
    page.get_by_role("link", name="I have written them down. Log in").click()
    page.wait_for_url(f"{server['url']}/login/")
    checked(page, visits)


def test_number_fields_look_like_the_others_and_table_cells_line_up(page_as, server, visits):
    page = page_as("support")
    page.goto(f"{server['url']}/p/new/")
    checked(page, visits)
    look = (
        "e => { const s = getComputedStyle(e); return [s.borderTopWidth, s.borderTopColor,"
        " s.paddingTop, s.fontSize, e.getBoundingClientRect().width]; }"
    )
    text = page.locator("input[type=text]").first.evaluate(look)
    assert page.locator("input[type=number]").first.evaluate(look) == text
    page.set_viewport_size({"width": 1000, "height": 800})
    page.goto(f"{server['url']}/p/kestrel/members/")
    checked(page, visits)
    for row in page.locator("tbody tr").all():
        cells = row.evaluate("r => [...r.children].map(c => getComputedStyle(c).display)")
        assert set(cells) == {"table-cell"}, cells
        bottoms = row.evaluate(
            "r => [...r.children].map(c => Math.round(c.getBoundingClientRect().bottom))"
        )
        assert len(set(bottoms)) == 1, bottoms
