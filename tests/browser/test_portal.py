"""X's portal in the demo, as he uses it: read at phone width, and its form sent by keyboard;
axe on every page."""

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
    # Sent without saying what it is: refused with the reason, the text kept, nothing saved
    # (sending for real is tests/test_portal.py's: here it would change the demo's contact
    # health under the other browser tests).
    text = x.get_by_label("Your text")
    text.fill("I have read the demands again. <b>I do not agree with all of them.</b>")
    text.focus()
    x.keyboard.press("Tab")
    with x.expect_navigation():  # the form posts, and the portal comes back with the reason
        x.keyboard.press("Enter")
    checked(x, visits)
    assert x.get_by_text("Choose what you are sending: a reflection or an update.").is_visible()
    assert "I do not agree with all of them." in x.get_by_label("Your text").input_value()
    screenshot(x, "portal-refused-375")
