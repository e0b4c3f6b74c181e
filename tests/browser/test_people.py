"""The people and circles around X in a real browser: a political group informed by X only at
the top, a partner X informed himself, and the informing demand's page saying what is still
open and why."""

from .conftest import checked


def test_informing_only_the_leaders_is_listed_as_open(page_as, server, visits):
    base = f"{server['url']}/p/kestrel"
    page = page_as("contact")
    page.goto(f"{base}/people/")
    checked(page, visits)

    page.get_by_role("link", name="Add a person or a circle").click()
    checked(page, visits)
    page.get_by_label("Who they are to X").select_option("political_group")
    page.get_by_label("Name or alias").fill("Kollektiv Süd")
    page.get_by_label("Since when (X joined the circle, or they met)").fill("2019-05-01")
    page.get_by_role("button", name="Save").click()
    checked(page, visits)
    assert page.get_by_role("heading", name="Kollektiv Süd").is_visible()

    page.get_by_role("link", name="Record that they were informed").click()
    checked(page, visits)
    page.get_by_label("When").fill("2019-06-01")
    page.get_by_label("X himself").check()
    page.get_by_label("only its leaders or centre").check()
    page.get_by_role("button", name="Save").click()
    checked(page, visits)
    assert page.get_by_text("X informed only its leaders or centre").is_visible()

    page.goto(f"{base}/people/new/")
    checked(page, visits)
    page.get_by_label("Who they are to X").select_option("partner")
    page.get_by_label("Name or alias").fill("New partner B")
    page.get_by_role("button", name="Save").click()
    checked(page, visits)
    page.get_by_role("link", name="Record that they were informed").click()
    checked(page, visits)
    assert page.get_by_label("everyone in it").count() == 0  # how far: circles only
    page.get_by_label("When").fill("2019-07-01")
    page.get_by_label("X himself").check()
    page.get_by_role("button", name="Save").click()
    checked(page, visits)

    page.get_by_role("link", name="People and circles").click()
    checked(page, visits)
    page.get_by_role("link", name="Who is informed, at a glance").click()
    checked(page, visits)
    uninformed = page.locator("section", has=page.locator("#uninformed-heading"))
    assert uninformed.get_by_text("His new political group").is_visible()
    partly = page.locator("section", has=page.locator("#partly-heading"))
    assert partly.get_by_text("Kollektiv Süd").is_visible()
    met = page.locator("section", has=page.locator("#met-heading"))
    assert met.get_by_text("New partner B").is_visible()
    assert page.get_by_text("Not met.", exact=True).is_visible()
