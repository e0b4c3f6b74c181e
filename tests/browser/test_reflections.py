"""A reflection of X's in a real browser: pasted in, reviewed against the five questions,
released to the survivor's side without his quoted words, and read there."""

from .conftest import checked

SCORES = {
    "Does he take responsibility for what he did?": "not at all",
    "Does he recall the acts, in his own words?": "partly",
    "Does he name what he gained from the abuse?": "cannot say",
    "Does he show empathy for the survivor?": "not at all",
    "Does he centre himself and his own hardship?": "clearly",
}


def test_a_reflection_is_reviewed_released_and_read_by_the_survivor(page_as, server, visits):
    base = f"{server['url']}/p/kestrel"
    page = page_as("contact")
    page.goto(f"{base}/reflections/")
    checked(page, visits)
    page.get_by_role("link", name="Add a reflection").click()
    checked(page, visits)
    page.get_by_label("pasted in", exact=True).check()
    page.get_by_label("His text, pasted in").fill(
        "<script>document.title='his'</script>\nI was the one who suffered most."
    )
    page.get_by_role("button", name="Save").click()
    checked(page, visits)
    assert page.get_by_text("The reflection is kept, encrypted.").is_visible()
    assert page.get_by_text("<script>document.title='his'</script>").is_visible()
    assert page.title() != "his"

    page.get_by_role("link", name="Review it").click()
    checked(page, visits)
    for question, score in SCORES.items():
        group = page.get_by_role("group", name=question)
        group.get_by_label(score, exact=True).check()
    page.get_by_label("Passages from his text that show it").last.fill("the one who suffered most")
    page.get_by_label("Your note").last.fill("BROWSER-NOTE: he makes himself the victim.")
    page.get_by_role("button", name="Save").click()
    checked(page, visits)
    assert page.get_by_text("Your review is saved.").is_visible()

    page.get_by_role("link", name="Review by contact").click()
    checked(page, visits)
    page.get_by_role("link", name="Release to the survivor's side").click()
    checked(page, visits)
    assert not page.get_by_label("Include the quoted passages of his words").is_checked()
    page.get_by_role("button", name="Release").click()
    checked(page, visits)
    assert page.get_by_text("The review is released to the survivor's side.").is_visible()

    survivor = page_as("survivor")
    survivor.goto(f"{base}/released/")
    checked(survivor, visits)
    assert survivor.get_by_text("BROWSER-NOTE: he makes himself the victim.").is_visible()
    assert survivor.get_by_text("the one who suffered most").count() == 0
