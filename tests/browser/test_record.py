"""The contact group's record in a real browser: log, a missed and a held meeting, two steps,
the confirmation sent by email, and contact health following along."""

import os
import re
import secrets
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import timedelta

from django.utils import timezone

from .conftest import checked, screenshot


def _health(page) -> dict[str, str]:
    """The figures of the contact-health panel, by their label (in the plural: "1 day since"
    and "2 days since" are one figure)."""
    figures = {}
    for item in page.locator(".health li").all():
        figure = item.locator("strong").inner_text()
        label = item.inner_text().removeprefix(figure).strip()
        figures[re.sub(r"^(day|message)\b", r"\1s", label)] = figure
    return figures


def _log(page, when: str, direction: str, summary: str) -> None:
    page.get_by_label("When").fill(when)
    page.get_by_label("Direction").select_option(label=direction)
    page.get_by_label("In short").fill(summary)
    page.get_by_role("button", name="Log it").click()


def _plan(page, base: str, visits, when: str) -> None:
    page.goto(f"{base}/meetings/new/")
    checked(page, visits)
    page.get_by_label("Date and time").fill(when)
    page.get_by_label("Place or online link").fill("Community centre, room 2")
    page.get_by_role("button", name="Plan it").click()
    checked(page, visits)


def test_log_meetings_steps_and_a_confirmation_change_contact_health(page_as, server, visits):
    base = f"{server['url']}/p/kestrel"
    today = timezone.localdate()
    page = page_as("contact")
    page.goto(f"{base}/log/")
    checked(page, visits)
    before = _health(page)

    # Three entries through the quick-add form: two messages out, then his reply.
    _log(page, (today - timedelta(days=9)).isoformat(), "group → X", "Asked him for a meeting")
    checked(page, visits)
    assert page.get_by_text("Logged.").is_visible()
    _log(page, (today - timedelta(days=5)).isoformat(), "group → X", "Asked again")
    checked(page, visits)
    after_two = _health(page)
    unanswered = int(before["messages sent since, without a reply"])
    assert after_two["messages sent since, without a reply"] == str(unanswered + 2)
    _log(page, (today - timedelta(days=2)).isoformat(), "X → group", "He agrees to meet")
    checked(page, visits)
    replied = _health(page)
    assert replied["messages sent since, without a reply"] == "0"
    assert replied["days since X last replied"] == "2"
    assert before["days since X last replied"] != "2"

    # A missed meeting, earlier today.
    earlier = timezone.localtime() - timedelta(hours=3)
    _plan(page, base, visits, earlier.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("link", name="Record the outcome").click()
    checked(page, visits)
    page.get_by_label("What happened").select_option(label="X did not come")
    page.get_by_role("button", name="Record", exact=True).click()
    checked(page, visits)
    assert page.get_by_text("The outcome is recorded.").is_visible()

    # A held one, with two steps.
    _plan(page, base, visits, (earlier + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    meeting_url = page.url
    page.get_by_role("link", name="Record the outcome").click()
    checked(page, visits)
    page.get_by_label("What happened").select_option(label="held")
    page.get_by_label("Minutes: what was discussed").fill("We went through demand 1 together.")
    page.get_by_label("Step 1: what is to be done").fill("Tell his new group about the demands")
    page.locator("#id_step-0-due_on").fill("2031-03-01")
    page.get_by_label("Step 2: what is to be done").fill("Send him the reading list")
    page.locator("#id_step-1-owner").select_option(label="the group")
    page.locator("#id_step-1-due_on").fill("2031-02-01")
    page.get_by_role("button", name="Record", exact=True).click()
    checked(page, visits)
    assert page.get_by_role("link", name="Tell his new group about the demands").is_visible()

    # The confirmation: prepared in one click, reviewed, sent by email.
    page.get_by_role("button", name="Prepare the confirmation to X").click()
    checked(page, visits)
    body = page.get_by_label("Text").input_value()
    assert "1. Send him the reading list" in body and "2. Tell his new group" in body
    page.get_by_label("X's email address").fill("x@example.org")
    page.get_by_role("button", name="Send by email").click()
    page.wait_for_url(meeting_url)
    checked(page, visits)
    assert page.get_by_text("The confirmation is sent to X.").is_visible()
    assert len(page.locator(".sent-hash code").inner_text()) == 64
    [message] = [m for m in server["inbox"] if m["To"] == "x@example.org"]
    assert "Tell his new group about the demands" in message.get_content()
    assert "1 Mar 2031" in message.get_content()
    screenshot(page, "meeting-confirmed")

    page.goto(f"{base}/log/")
    checked(page, visits)
    now = _health(page)
    held_missed = [int(n) for n in now["meetings held / missed"].split("/")]
    before_held_missed = [int(n) for n in before["meetings held / missed"].split("/")]
    assert held_missed == [before_held_missed[0] + 1, before_held_missed[1] + 1]
    held_on = timezone.localtime(earlier + timedelta(hours=1)).date()
    assert now["days since X last replied"] == str((today - held_on).days)  # the meeting held
    page.goto(f"{base}/")
    checked(page, visits)
    assert page.locator(".health").is_visible()


PASTED_MAIL = (
    "Hi all,\n\n"
    "thanks for your message. I want to answer properly,\nbut I need more time.\n"
    "> On 3 March the contact group wrote:\n"
    "> " + "We ask you to answer the letter by the end of the month. " * 3 + "\n\n"
    "https://example.org/" + "a-very-long-link-without-any-break-" * 6 + "\n\n"
    "Best,\nX"
)


def test_a_pasted_mail_keeps_its_paragraphs_and_wraps_at_phone_width(page_as, server, visits):
    base = f"{server['url']}/p/kestrel"
    page = page_as("contact")
    page.goto(f"{base}/log/new/")
    checked(page, visits)
    page.get_by_label("When").fill(timezone.localdate().isoformat())
    page.get_by_label("What", exact=True).select_option(label="note")
    page.get_by_label("Direction").select_option(label="within the group")
    page.get_by_label("In short").fill("Pasted: " + "a-long-unbroken-summary-" * 6)
    page.get_by_label("The message or notes in full").fill(PASTED_MAIL)
    page.get_by_role("button", name="Save").click()
    checked(page, visits)  # nothing wider than the phone
    paragraphs = page.locator("div.prose > p")
    assert paragraphs.count() == 4
    line = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('div.prose')).lineHeight)"
    )
    gap = page.evaluate(
        "(() => { const [a, b] = document.querySelectorAll('div.prose > p');"
        " return b.getBoundingClientRect().top - a.getBoundingClientRect().bottom; })()"
    )
    assert 0.5 * line < gap < 1.5 * line, (gap, line)  # one blank line, not three or four
    assert paragraphs.nth(1).locator("br").count() == 3  # single line breaks kept
    page.goto(f"{base}/log/")
    checked(page, visits)


def _add_logins(server, count: int) -> None:
    """Audit events in the served demo's database, as if a member logged in `count` times."""
    env = os.environ | {"UPHOLD_MODE": "demo", "UPHOLD_DATA_DIR": str(server["data"])}
    env.pop("DATABASE_URL", None)
    if server["database_url"]:
        env["DATABASE_URL"] = server["database_url"]
    code = (
        "from uphold.audit.services import record\n"
        "from uphold.processes.models import Membership\n"
        "m = Membership.objects.select_related('process', 'user')"
        ".get(process__code='kestrel', role='community')\n"
        f"for _ in range({count}): record(m.user, m.process, 'login')\n"
    )
    subprocess.run([sys.executable, "-m", "uphold.cli", "shell", "-c", code], env=env, check=True)


def test_the_log_is_searched_and_the_audit_log_paged_with_the_keyboard(page_as, server, visits):
    base = f"{server['url']}/p/kestrel"
    page = page_as("support")
    page.goto(f"{base}/log/")
    checked(page, visits)
    page.get_by_label("Search the log").focus()
    page.keyboard.type("Programme")
    page.keyboard.press("Enter")
    page.wait_for_url("**/log/?q=Programme")
    checked(page, visits)
    assert page.get_by_role("status").filter(has_text="“Programme”").is_visible()
    assert page.get_by_role("link", name="perpetrator programmes unsuitable").is_visible()
    assert not page.get_by_role("link", name="Still waiting for an answer").count()
    screenshot(page, "log-search")

    _add_logins(server, 60)  # more events than one page shows, whatever ran before
    page.goto(f"{base}/audit/")
    checked(page, visits)
    pager = page.get_by_role("navigation", name="Pages of the audit log")
    assert pager.get_by_text("Page 1 of").is_visible()
    pager.get_by_role("link", name="Next page").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/audit/?page=2")
    checked(page, visits)
    assert pager.get_by_text("Page 2 of").is_visible()
    assert pager.get_by_role("link", name="Previous page").is_visible()
    screenshot(page, "audit-page-2")


def test_save_pressed_again_after_a_lost_answer_saves_once(page_as, server, visits):
    """The server saved the entry, but its answer never reached the browser (a dropped
    connection): the form is still on screen and the member presses Save again."""
    base = f"{server['url']}/p/kestrel"
    page = page_as("contact")
    page.goto(f"{base}/log/new/")
    checked(page, visits)
    summary = "Decided who writes next, saved once"
    page.get_by_label("What", exact=True).select_option("decision")
    page.get_by_label("Direction").select_option("none")
    page.get_by_label("In short").fill(summary)
    lost = []

    def lose_the_answer(route) -> None:
        if not lost:
            lost.append(route.fetch(max_redirects=0).status)  # the server receives and saves it ...
            route.abort("aborted")  # ... and the answer is lost on the way back
        else:
            route.continue_()

    page.route(re.compile(r".*/log/new/$"), lose_the_answer)
    save = page.get_by_role("button", name="Save", exact=True)
    save.click()
    page.wait_for_timeout(500)
    assert lost == [302]
    assert page.get_by_label("In short").input_value() == summary
    save.click()
    page.wait_for_url(re.compile(r".*/log/\d+/$"))
    checked(page, visits)
    assert page.get_by_text("This was saved already; here it is.").is_visible()
    page.unroute(re.compile(r".*/log/new/$"))
    page.goto(f"{base}/log/?q={summary.replace(' ', '+')}")
    checked(page, visits)
    assert page.locator("ol.log > li").filter(has_text=summary).count() == 1
    assert page.get_by_text("1 entry holds").is_visible()

    # A form from before the tokens (here: with the token taken out) is refused plainly.
    page.goto(f"{base}/log/new/")
    checked(page, visits)
    page.evaluate("document.querySelector('input[name=once]').remove()")
    page.get_by_label("In short").fill("Never saved")
    save.click()
    page.wait_for_load_state("load")
    checked(page, visits)
    assert page.get_by_role("heading", name="This page is out of date").is_visible()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_two_copies_of_one_form_arriving_together_save_once(page_as, server, visits):
    """A double click or a proxy's retry: two copies of one form reach the server at the same
    moment, in separate server processes or threads on one database. One entry is made, and
    both answers lead to it."""
    base = f"{server['url']}/p/kestrel"
    page = page_as("contact")
    page.goto(f"{base}/log/new/")
    checked(page, visits)
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())
    csrf = page.locator("input[name=csrfmiddlewaretoken]").first.input_value()
    opener = urllib.request.build_opener(_NoRedirect)
    for attempt in range(4):
        token = secrets.token_urlsafe(24)
        word = f"together{attempt}{token[:6].replace('-', 'x').replace('_', 'y')}"
        body = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": csrf,
                "once": token,
                "occurred_on": timezone.localdate().isoformat(),
                "kind": "note",
                "direction": "none",
                "summary": word,
            }
        ).encode()
        start, answers = threading.Barrier(2), []

        def send(body=body, start=start, answers=answers) -> None:
            request = urllib.request.Request(
                f"{base}/log/new/", data=body, headers={"Cookie": cookies}
            )
            start.wait()
            try:
                opener.open(request, timeout=30)
            except urllib.error.HTTPError as answer:
                answers.append((answer.code, answer.headers["Location"]))

        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(answers) == 2 and answers[0] == answers[1], answers
        assert answers[0][0] == 302 and re.search(r"/log/\d+/$", answers[0][1])
        page.goto(f"{base}/log/?q={word}")
        checked(page, visits)
        assert page.get_by_text("1 entry holds").is_visible(), word
