"""The dashboard (the overview page) and the timeline of the demo, as the contact group sees
them: at phone width and at 1,280 px, axe on every page, each figure leading to its rows."""

import re

from .conftest import PHONE, checked, screenshot

WIDE = {"width": 1280, "height": 900}


def test_the_dashboard_and_the_timeline_at_both_widths(page_as, server, visits):
    page = page_as("contact")
    for size, name in ((PHONE, "375"), (WIDE, "1280")):
        page.set_viewport_size(size)
        page.goto(server["url"] + "/p/kestrel/")
        checked(page, visits)
        assert page.get_by_role("heading", name="What needs attention").is_visible()
        screenshot(page, f"dashboard-{name}")
        for path, shot in (
            ("/p/kestrel/timeline/", "timeline"),
            ("/p/kestrel/timeline/?year=" + _middle_year(page, server), "timeline-year"),
        ):
            page.goto(server["url"] + path)
            checked(page, visits)
            assert page.locator("svg text.silence-days").count() >= 1
            screenshot(page, f"{shot}-{name}")
        # Nothing wider than the screen but the drawing, which scrolls inside its frame.
        page.goto(server["url"] + "/p/kestrel/")
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"]
    page.set_viewport_size(PHONE)


def test_a_figure_leads_to_the_entries_it_counts(page_as, server, visits):
    page = page_as("contact")
    page.goto(server["url"] + "/p/kestrel/")
    checked(page, visits)
    link = page.locator('[data-figure="messages_from_respondent"]')
    count = int(link.inner_text())
    link.click()
    checked(page, visits)
    assert re.search(r"show=from_x", page.url)
    assert page.locator("ol.log > li").count() == count
    assert page.get_by_label("of the kind").input_value() == "from_x"


def test_the_timeline_is_zoomed_by_year_with_the_keyboard(page_as, server, visits):
    page = page_as("contact")
    page.goto(server["url"] + "/p/kestrel/timeline/")
    checked(page, visits)
    year = _middle_year(page, server)
    page.get_by_role("link", name=year, exact=True).focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(f"year={year}"))
    checked(page, visits)
    assert page.get_by_role("link", name=year, exact=True).get_attribute("aria-current") == "page"


def _middle_year(page, server) -> str:
    """A year of the demo's process other than its first and this one (its dates move with
    the day the demo is built)."""
    page.goto(server["url"] + "/p/kestrel/timeline/")
    years = page.get_by_role("navigation", name="Zoom").get_by_role("link").all_inner_texts()
    return years[len(years) // 2]


def test_a_report_is_read_on_its_page_and_taken_out_as_a_pdf(page_as, server, visits):
    page = page_as("contact")
    for kind in ("report-back", "survivor-update", "retrospective"):
        page.goto(f"{server['url']}/p/kestrel/reports/?kind={kind}")
        checked(page, visits)
        assert page.get_by_role("article").get_by_role("heading", level=1).is_visible()
    screenshot(page, "reports-retrospective-375")
    with page.expect_download() as download:
        page.get_by_role("button", name="PDF").click()
    assert re.fullmatch(
        r"kestrel-retrospective-\d{4}-\d\d-\d\d\.pdf", download.value.suggested_filename
    )
    path = download.value.path()
    with open(path, "rb") as pdf:
        assert pdf.read(4) == b"%PDF"
    page.reload()
    checked(page, visits)
    assert page.get_by_role("heading", name="Recent exports").is_visible()


def test_the_groups_words_are_written_on_the_page_and_read_in_the_report(page_as, server, visits):
    page = page_as("contact")
    page.goto(f"{server['url']}/p/kestrel/reports/?kind=retrospective")
    checked(page, visits)
    lessons = page.get_by_label("Lessons", exact=True)
    lessons.fill("Write each demand so it cannot be weakened.\n- Keep a written record.")
    lessons.focus()
    page.keyboard.press("Tab")  # past the names box to the button, by keyboard
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/reports/?kind=retrospective#report")
    checked(page, visits)
    report = page.get_by_role("article")
    assert report.get_by_text("Write each demand so it cannot be weakened.").is_visible()
    assert report.get_by_role("listitem").filter(has_text="Keep a written record.").count() == 1
    screenshot(page, "reports-words-375")
