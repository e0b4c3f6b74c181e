"""X's portal in the demo, as he uses it: read at phone width, a reflection sent by keyboard,
and what he sent found in the contact group's log; axe on every page."""

from .conftest import checked, screenshot


def test_his_portal_is_read_and_a_reflection_sent_by_keyboard(page_as, server, visits):
    base = f"{server['url']}/p/kestrel"
    x = page_as("respondent")
    x.goto(f"{server['url']}/")
    checked(x, visits)
    x.get_by_role("link", name="kestrel").first.click()
    x.wait_for_url(f"{base}/portal/")
    checked(x, visits)
    for heading in (
        "The demands",
        "Your steps",
        "Your next meeting",
        "Send a reflection or an update",
    ):
        assert x.get_by_role("heading", name=heading, exact=True).is_visible(), heading
    assert x.get_by_role("link", name="Log").count() == 0  # no tab but his own
    screenshot(x, "portal-375")
    x.get_by_label("a reflection on what he did").check()
    text = x.get_by_label("Your text")
    text.fill("I have read the demands again. <b>I do not agree with all of them.</b>")
    text.focus()
    x.keyboard.press("Tab")
    with x.expect_navigation():  # the form posts, then comes back to the portal
        x.keyboard.press("Enter")
    checked(x, visits)
    assert x.get_by_text("Sent. The contact group is told that something arrived").is_visible()
    assert x.get_by_role("heading", name="What you sent").is_visible()
    screenshot(x, "portal-sent-375")

    contact = page_as("contact")
    contact.goto(f"{base}/log/")
    checked(contact, visits)
    row = contact.get_by_text("I have read the demands again. <b>I do not agree", exact=False)
    assert row.first.is_visible()  # his markup shown as text
    assert contact.locator("main b", has_text="I do not agree").count() == 0
