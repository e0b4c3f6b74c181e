"""The settings page and withdrawing a link, in a real browser (CSRF, referrer policy, axe)."""

from .conftest import checked


def test_the_contact_group_changes_a_reminder_and_a_bad_number_is_refused(page_as, server, visits):
    page = page_as("contact")
    page.goto(f"{server['url']}/p/kestrel/")
    checked(page, visits)
    page.get_by_role("link", name="Change the settings").click()
    checked(page, visits)
    days = page.get_by_label("Remind the contact group when he has not replied for how many days?")
    before = days.input_value()
    days.fill("400")
    page.get_by_role("button", name="Save meetings and reminders").click()
    checked(page, visits)
    assert page.get_by_text("Choose a whole number from 1 to 365.").first.is_visible()
    days.fill("30")
    with page.expect_navigation():
        page.get_by_role("button", name="Save meetings and reminders").click()
    checked(page, visits)
    assert page.get_by_text("Saved.").is_visible()
    assert days.input_value() == "30"
    days.fill(before)  # as it was, for the other tests of this server
    page.get_by_role("button", name="Save meetings and reminders").click()
    checked(page, visits)
    assert page.get_by_text("Saved.").is_visible()


def test_the_survivor_sees_only_the_words(page_as, server, visits):
    page = page_as("survivor")
    page.goto(f"{server['url']}/p/kestrel/settings/")
    checked(page, visits)
    assert page.get_by_role("heading", name="The words for the people involved").is_visible()
    assert page.get_by_role("heading", name="Meetings and reminders").count() == 0
    assert page.get_by_role("heading", name="Where your group is").count() == 0


def test_an_unused_link_is_withdrawn_and_then_answers_as_expired(
    page_as, fresh_page, server, visits
):
    support = page_as("support")
    support.goto(f"{server['url']}/p/kestrel/members/invite/")
    checked(support, visits)
    support.get_by_label("Role of the person you invite").select_option("community")
    support.get_by_role("button", name="Make an invitation link").click()
    checked(support, visits)
    link = support.get_by_label("Invitation link").input_value()
    support.goto(f"{server['url']}/p/kestrel/members/")
    checked(support, visits)
    assert support.get_by_role("heading", name="Open invitation links").is_visible()
    withdraw = support.get_by_role("button", name="Withdraw the link for the community group")
    count = withdraw.count()
    assert count >= 1
    withdraw.last.click()
    checked(support, visits)
    assert support.get_by_text("The link is withdrawn.").is_visible()
    assert withdraw.count() == count - 1

    page = fresh_page
    response = page.goto(link)
    checked(page, visits)
    assert response.status == 404
    assert page.get_by_text("This invitation link has expired. Ask for a new one.").is_visible()
