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
    proposed = [r for r in rows if "proposed a proposed change to a demand" in r]
    refused = [r for r in rows if "refused a proposed change to a demand" in r]
    assert proposed and server["accounts"]["contact"]["username"] in proposed[0]
    assert refused and server["accounts"]["support"]["username"] in refused[0]
