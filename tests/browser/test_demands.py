"""The demands flow in a real browser: a weaker wording proposed, seen as such, refused."""

from .conftest import checked, screenshot

KEPT = "Every political group he joins is told before he takes part"
DROPPED = "Members outside a group's leadership are told, not only its leaders"
PARTNERS = "Every new sexual partner is told before they become involved"


def test_a_softening_proposal_is_labelled_refused_and_leaves_the_demand_as_it_was(
    page_as, server, visits
):
    base = f"{server['url']}/p/kestrel"
    contact = page_as("contact")
    contact.goto(f"{base}/demands/")
    checked(contact, visits)
    contact.get_by_role("link", name="Demand 2").click()
    checked(contact, visits)
    wording = contact.locator(".demand-wording").inner_text()
    contact.get_by_role("link", name="Propose a change").click()
    checked(contact, visits)
    contact.get_by_label("What is demanded").fill("Tell the leaders of new political groups.")
    contact.get_by_label("Criteria: what counts as met").fill(f"{KEPT}\n{PARTNERS}")
    contact.get_by_label("Why should it change?").fill("X says telling everyone is too much.")
    contact.get_by_role("button", name="Send as a proposal").click()
    checked(contact, visits)
    assert contact.get_by_text("Your proposal is sent.").is_visible()

    support = page_as("support")
    support.goto(f"{base}/demands/2/")
    checked(support, visits)
    card = support.locator(".proposal-waiting").first
    assert "Softens the demand." in card.inner_text()
    card.get_by_role("link", name="Read and answer").click()
    checked(support, visits)
    assert support.get_by_text("It removes 1 criterion.").is_visible()
    assert support.locator("del", has_text=DROPPED).count() == 1
    # By keyboard alone: from the reasons field, Tab reaches "Refuse" first.
    support.get_by_label("Your reasons (optional, shown to the group)").fill(
        "Demand 2 means everyone, not only leaders."
    )
    support.keyboard.press("Tab")
    focused = support.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Refuse: keep the demand as it is"
    support.keyboard.press("Enter")
    support.wait_for_url(f"{base}/demands/2/")
    checked(support, visits)
    assert support.get_by_text("The proposal is refused. The demand is unchanged.").is_visible()
    assert support.locator(".demand-wording").inner_text() == wording
    assert support.locator(".criteria").first.get_by_text(DROPPED).count() == 1
    screenshot(support, "demand-after-refusal")

    support.goto(f"{base}/audit/")
    checked(support, visits)
    rows = support.locator("tbody tr").all_inner_texts()
    proposed = [r for r in rows if "proposed a change to demand 2" in r]
    refused = [r for r in rows if "refused a change to demand 2" in r]
    assert proposed and server["accounts"]["contact"]["username"] in proposed[0]
    assert refused and server["accounts"]["support"]["username"] in refused[0]


def test_the_letter_keeps_its_versions_and_the_one_handed_over_stays_marked(
    page_as, server, visits
):
    """The demo's letter: version 1 handed over in 2015, version 2 with a postscript."""
    base = f"{server['url']}/p/kestrel"
    support = page_as("support")
    support.goto(f"{base}/letter/")
    checked(support, visits)
    text = support.get_by_label("Text of the letter")
    text.fill(text.input_value() + "\n\nA third wording, written in the browser.")
    support.get_by_role("button", name="Save the letter").click()
    support.wait_for_url(f"{base}/demands/")
    checked(support, visits)
    assert support.get_by_text("The letter is saved; the earlier version is kept.").is_visible()
    assert support.get_by_text("version 1 is the one X received").is_visible()
    earlier = support.locator(".letter-versions li").all_inner_texts()
    assert len(earlier) == 2 and "as sent: handed over on" in earlier[-1]

    contact = page_as("contact")
    contact.goto(f"{base}/demands/")
    checked(contact, visits)
    contact.get_by_role("link", name="Mark this version as handed over").click()
    checked(contact, visits)
    contact.get_by_label("Handed over on").fill("2020-03-01")
    contact.get_by_label("Handed over to").fill("Sent to his new group by the contact group.")
    contact.get_by_role("button", name="Mark as handed over").click()
    contact.wait_for_url(f"{base}/demands/")
    checked(contact, visits)
    assert contact.get_by_text("This version, handed over on").is_visible()
    assert contact.get_by_role("link", name="Mark this version as handed over").count() == 0
    screenshot(contact, "letter-handed-over")

    # X reads his demands in his portal; the letter's pages are not his.
    respondent = page_as("respondent")
    respondent.goto(f"{base}/")
    respondent.wait_for_url(f"{base}/portal/")
    checked(respondent, visits)
    portal = respondent.locator("main").inner_text()
    assert "A third wording, written in the browser." not in portal
    assert "What counts as meeting it:" in portal
