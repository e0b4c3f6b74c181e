"""Searching the log: it opens the entries' text with the member's `record` key, newest first,
in batches up to a cap, and says so when it stopped early."""

from datetime import date, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from uphold.accounts.models import User
from uphold.accounts.services import acting_as
from uphold.crypto import keyring
from uphold.crypto.services import unlock
from uphold.processes.sample import build_process
from uphold.record import search, services
from uphold.record.models import Entry
from uphold.record.queries import LOG_PAGE

from .conftest import MARK, database_state, log_in

LOG = reverse("log", args=["kestrel"])


def _entry(contact, summary: str, text: str = "", when: date | None = None, **more) -> Entry:
    return services.add_entry(
        contact,
        "kestrel",
        services.EntryData(
            occurred_on=when or date(2019, 5, 1),
            kind="message",
            direction="from_x",
            summary=summary,
            text=text,
            **more,
        ),
    )


def _link(entry: Entry) -> str:
    return _link_to(entry.pk)


def _link_to(pk: int) -> str:
    return f'href="{reverse("entry", args=["kestrel", pk])}"'


def test_a_word_of_a_summary_finds_its_entry_and_no_other(client_for, as_member):
    with as_member("contact") as contact:
        wanted = _entry(contact, "He asks to move the meeting to Leipzig")
        other = _entry(contact, "He does not answer")
    page = client_for("contact").get(LOG, {"q": "leipzig"}).content.decode()
    assert _link(wanted) in page and _link(other) not in page
    assert MARK + "record.entry.summary" not in page
    assert "1 entry holds “leipzig”." in page
    assert 'value="leipzig"' in page  # the box keeps what was searched for


def test_the_support_group_searches_too_and_every_word_must_be_there(client_for, as_member):
    with as_member("contact") as contact:
        both = _entry(contact, "Programme refused", text="He says DVIP is not for him.")
        one = _entry(contact, "Programme suggested")
    page = client_for("support").get(LOG, {"q": "programme dvip"}).content.decode()
    assert _link(both) in page and _link(one) not in page


def test_the_search_reads_the_full_text_and_the_people_ignoring_case_and_spelling_of_ss(
    client_for, as_member
):
    with as_member("contact") as contact:
        in_text = _entry(contact, "Letter", text="We met at the Hauptstraße.")
        in_people = _entry(contact, "Call", people="Marta Kowalski")
    client = client_for("contact")
    assert _link(in_text) in client.get(LOG, {"q": "HAUPTSTRASSE"}).content.decode()
    assert _link(in_people) in client.get(LOG, {"q": "kowalski"}).content.decode()


def test_nothing_found_says_so(client_for):
    page = client_for("contact").get(LOG, {"q": "zeppelin"}).content.decode()
    assert "0 entries hold “zeppelin”." in page
    assert "Nothing found. Try fewer words" in page


def test_an_empty_search_shows_the_normal_log(client_for):
    client = client_for("contact")
    normal = client.get(LOG).content.decode()
    blank = client.get(LOG, {"q": "   "}).content.decode()
    assert MARK + "record.entry.summary" in blank
    assert "entries hold" not in blank and "entry holds" not in blank
    assert blank.count('class="log"') == normal.count('class="log"') == 1


def test_the_search_does_not_find_entries_of_another_process(client_for):
    _support, wren_contact = build_process(
        "wren", [("w-support", "support"), ("w-contact", "contact")]
    )
    user = User.objects.get(username=wren_contact["username"])
    with keyring.using(keyring.Keyring(user.pk, unlock(user, wren_contact["password"]))):
        elsewhere = services.add_entry(
            acting_as(user),
            "wren",
            services.EntryData(
                occurred_on=date(2019, 5, 1), kind="note", summary="Only in wren: Quedlinburg"
            ),
        )
    page = client_for("contact").get(LOG, {"q": "quedlinburg"}).content.decode()
    assert "Quedlinburg" not in page.replace("“quedlinburg”", "")
    assert "0 entries hold" in page
    wren = log_in(Client(), user, wren_contact["password"])
    page = wren.get(reverse("log", args=["wren"]), {"q": "quedlinburg"}).content.decode()
    assert f'href="{reverse("entry", args=["wren", elsewhere.pk])}"' in page


@pytest.mark.parametrize("role", ["survivor", "community", "respondent"])
def test_roles_without_the_record_key_cannot_search_and_are_not_offered_it(client_for, role):
    client = client_for(role)
    response = client.get(LOG, {"q": "MARKER"})
    assert response.status_code == 403
    assert MARK + "record.entry.summary" not in response.content.decode()
    overview = client.get(reverse("process", args=["kestrel"])).content.decode()
    assert "Search the log" not in overview and 'name="q"' not in overview


def test_a_group_member_whose_key_is_not_here_sees_the_locked_page(client_for):
    from uphold.crypto import sessions

    client = client_for("contact")
    del client.cookies[sessions.cookie_name()]
    response = client.get(LOG, {"q": "MARKER"})
    assert response.status_code == 403
    text = response.content.decode()
    assert "Locked for now" in text and MARK + "record.entry.summary" not in text


def test_the_search_box_is_on_the_log_page_in_german_too(client_for):
    page = client_for("contact", headers={"accept-language": "de"}).get(LOG).content.decode()
    assert '<label for="log-search">Im Logbuch suchen</label>' in page
    assert 'type="search"' in page and 'role="search"' in page


def test_a_search_stops_at_the_cap_and_says_how_far_it_read(client_for, as_member, monkeypatch):
    monkeypatch.setattr(search, "CAP", 4)
    monkeypatch.setattr(search, "BATCH", 3)
    with as_member("contact") as contact:
        made = {
            _entry(contact, f"Reminder {n}", when=date(2024, 1, 1) + timedelta(days=n)).pk
            for n in range(6)
        }
    order = list(
        Entry.objects.filter(process__code="kestrel")
        .order_by("-occurred_on", "-pk")
        .values_list("pk", flat=True)
    )
    page = client_for("contact").get(LOG, {"q": "reminder"}).content.decode()
    read, unread = order[:4], order[4:]
    assert made & set(read) and made & set(unread)
    assert all(_link_to(pk) in page for pk in read if pk in made)
    assert all(_link_to(pk) not in page for pk in unread)
    assert "Only the newest 4 entries were searched: older ones were not." in page
    german = client_for("contact", headers={"accept-language": "de"})
    page = german.get(LOG, {"q": "reminder"}).content.decode()
    assert "Durchsucht wurden nur die neuesten 4 Einträge" in page


def test_a_search_that_reads_the_whole_log_does_not_say_it_stopped(client_for, as_member):
    with as_member("contact") as contact:
        _entry(contact, "Reminder")
    page = client_for("contact").get(LOG, {"q": "reminder"}).content.decode()
    assert "were searched" not in page


def test_search_results_come_in_pages_that_keep_the_search(client_for, as_member, monkeypatch):
    monkeypatch.setattr(search, "BATCH", 7)  # several batches on the way
    with as_member("contact") as contact:
        made = [
            _entry(contact, f"Refusal {n}", when=date(2020, 1, 1) + timedelta(days=n))
            for n in range(LOG_PAGE + 2)
        ]
        _entry(contact, "Something else", when=date(2021, 1, 1))
    client = client_for("contact")
    first = client.get(LOG, {"q": "refusal"}).content.decode()
    assert f"{LOG_PAGE + 2} entries hold “refusal”." in first
    assert 'href="/p/kestrel/log/?q=refusal&amp;page=2" rel="next"' in first
    second = client.get(LOG, {"q": "refusal", "page": "2"}).content.decode()
    oldest = made[:2]
    assert all(_link(e) in second for e in oldest) and _link(made[-1]) not in second
    assert client.get(LOG, {"q": "refusal", "page": "3"}).status_code == 404
    assert client.get(LOG, {"q": "refusal", "page": "x"}).status_code == 400


def test_a_search_within_a_tag(client_for, as_member):
    with as_member("contact") as contact:
        tagged = _entry(contact, "He denies it again", tags=["denial"])
        untagged = _entry(contact, "He denies nothing")
    page = client_for("contact").get(LOG, {"q": "denies", "tag": "denial"}).content.decode()
    assert _link(tagged) in page and _link(untagged) not in page
    assert '<input type="hidden" name="tag" value="denial">' in page


def test_a_too_long_search_is_refused_with_a_message_and_changes_nothing(client_for):
    client = client_for("contact")
    before = database_state()
    response = client.get(LOG, {"q": "x" * (search.MAX_QUERY + 1)})
    assert response.status_code == 400
    text = response.content.decode()
    assert f"Search for at most {search.MAX_QUERY} characters." in text
    assert MARK + "record.entry.summary" in text  # the normal log below the message
    assert database_state() == before


def test_a_search_reads_no_more_than_the_cap_however_long_the_log(
    client_for, as_member, monkeypatch
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(search, "CAP", 6)
    monkeypatch.setattr(search, "BATCH", 2)
    client = client_for("contact")
    client.get(LOG)

    def queries_of_a_search() -> int:
        with CaptureQueriesContext(connection) as made:
            assert client.get(LOG, {"q": "reminder"}).status_code == 200
        return len(made.captured_queries)

    with as_member("contact") as contact:
        for n in range(8):
            _entry(contact, f"Reminder {n}")
    at_the_cap = queries_of_a_search()
    with as_member("contact") as contact:
        for n in range(30):
            _entry(contact, f"Reminder {n}")
    assert queries_of_a_search() == at_the_cap
