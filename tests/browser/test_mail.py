"""Mail brought into the log in a real browser: X's address added, an mbox uploaded, the one
unmatched message assigned, the import confirmed and contact health following it; then the
import undone, which gives the demo back its log (other browser tests read its health)."""

import secrets
from datetime import UTC, datetime, timedelta

from tests.mail_tools import CONTACT, STRANGER, eml, mbox_bytes, message

from .conftest import checked, screenshot
from .test_record import _health


def test_an_mbox_is_summarised_assigned_imported_and_undone(page_as, server, visits, tmp_path):
    base = f"{server['url']}/p/kestrel"
    x = f"x-{secrets.token_hex(4)}@example.org"
    now = datetime.now(UTC)
    mbox = tmp_path / "takeout.mbox"
    mbox.write_bytes(
        mbox_bytes(
            [
                eml(
                    message(
                        CONTACT,
                        x,
                        "Where are the steps?",
                        "Please answer.",
                        sent=now - timedelta(days=3),
                    )
                ),
                eml(
                    message(
                        x,
                        CONTACT,
                        "Re: Where are the steps?",
                        "Next week.",
                        sent=now - timedelta(days=2),
                    )
                ),
                eml(
                    message(
                        STRANGER,
                        CONTACT,
                        "Forwarded from his flatmate",
                        "He asked me to pass this on.",
                        sent=now - timedelta(days=1),
                    )
                ),
            ]
        )
    )
    page = page_as("contact")
    page.goto(f"{base}/log/")
    checked(page, visits)
    before = _health(page)

    page.goto(f"{base}/mail/")
    checked(page, visits)
    page.get_by_label("Whose address").select_option(label="X")
    address = page.get_by_label("Email address")
    address.fill(x)
    with page.expect_navigation():
        address.press("Enter")
    checked(page, visits)
    assert page.get_by_text("The address is kept, encrypted.").is_visible()
    page.get_by_text("Add a mailbox").click()  # the IMAP form unfolds, and is checked open
    checked(page, visits)
    screenshot(page, "mail-375")
    page.get_by_label("Mail files").set_input_files(mbox)
    page.get_by_role("button", name="Read the mail").click()
    checked(page, visits)  # the reading, line by line as it goes
    assert page.get_by_text("Read 3 messages. Nothing is in the log yet").is_visible()
    page.get_by_role("link", name="Read the summary").click()
    checked(page, visits)
    assert page.get_by_text("Matching no party (1)").is_visible()
    screenshot(page, "mail-summary-375")

    # The unmatched message: said to be from X, by keyboard.
    choice = page.get_by_label("What it is")
    choice.focus()
    choice.select_option("from_x")
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    checked(page, visits)
    page.get_by_role("button", name="Import 3 messages").click()
    checked(page, visits)
    assert page.get_by_text("3 messages are in the log now.").is_visible()
    screenshot(page, "mail-imported-375")

    page.goto(f"{base}/log/")
    checked(page, visits)
    for subject in (
        "Where are the steps?",
        "Re: Where are the steps?",
        "Forwarded from his flatmate",
    ):
        assert page.get_by_role("link", name=subject, exact=True).count() == 1, subject
    assert _health(page) != before

    page.go_back()
    checked(page, visits)
    page.get_by_role("button", name="Undo this import").click()
    checked(page, visits)
    assert page.get_by_text("The import is undone: 3 entries left the log.").is_visible()
    page.goto(f"{base}/log/")
    checked(page, visits)
    assert _health(page) == before
