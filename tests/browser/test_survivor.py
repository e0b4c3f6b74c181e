"""The survivor's page in the demo: read at phone width, preferences chosen by keyboard, the
full-access page, and the contact group's requests page; axe on every page."""

from .conftest import checked, screenshot


def test_the_survivors_page_and_their_preferences(page_as, server, visits):
    base = f"{server['url']}/p/kestrel"
    survivor = page_as("survivor")
    survivor.goto(f"{base}/survivor/")
    checked(survivor, visits)
    for heading in ("The demands", "Waiting for your answer", "Updates for you"):
        assert survivor.get_by_role("heading", name=heading, exact=True).is_visible(), heading
    # The update they chose to get directly, behind its content note until they open it.
    note = survivor.locator("details summary").first
    assert "Content note" in note.inner_text()
    screenshot(survivor, "survivor-375")

    survivor.get_by_role("link", name="How you want to hear about it").click()
    checked(survivor, visits)
    monthly = survivor.get_by_label("once a month")
    monthly.focus()
    survivor.keyboard.press("Space")
    assert monthly.is_checked()
    survivor.get_by_role("button", name="Save my preferences").focus()
    with survivor.expect_navigation():  # the form posts, then comes back to the page
        survivor.keyboard.press("Enter")
    checked(survivor, visits)
    assert survivor.get_by_text("Your preferences are saved.").is_visible()
    assert survivor.get_by_label("once a month").is_checked()
    assert survivor.get_by_text("Where I live now.").is_visible()
    screenshot(survivor, "survivor-preferences-375")

    survivor.goto(f"{base}/survivor/access/")
    checked(survivor, visits)
    assert survivor.get_by_role("button", name="I want to read the whole record").is_visible()
    screenshot(survivor, "survivor-access-375")


def test_the_contact_group_answers_a_request(page_as, server, visits):
    base = f"{server['url']}/p/kestrel"
    contact = page_as("contact")
    contact.goto(f"{base}/requests/")
    checked(contact, visits)
    assert contact.get_by_text("The minutes of the first meeting").first.is_visible()
    screenshot(contact, "requests-375")
