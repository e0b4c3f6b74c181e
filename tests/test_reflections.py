"""X's reflections, the contact group's reviews of them, their release to the survivor's side,
and the patterns over time (uphold/figures.py)."""

import io
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from uphold import figures
from uphold.processes.models import Process
from uphold.record import services as record
from uphold.record.services import EntryData
from uphold.reflections import services
from uphold.reflections.models import QUESTION_NAMES, ReleasedReview, Review
from uphold.reflections.services import Answer

from .conftest import MARK, database_state, with_token


def answers(score: int | None, word: str) -> dict[str, Answer]:
    return {
        name: Answer(score, f"{word} quote {name}", f"{word} note {name}")
        for name in QUESTION_NAMES
    }


def reflect(contact, text: str = "It was a hard year for me.", **kwargs):
    return services.add_reflection(
        contact, "kestrel", written_on=timezone.localdate(), source="pasted", text=text, **kwargs
    )


@pytest.fixture
def unreleased(as_member):
    """A second reflection with a review the group has not released."""
    with as_member("contact") as contact:
        reflection = reflect(contact)
        return services.add_review(contact, "kestrel", reflection.pk, answers(0, "UNRELEASED"))


def test_a_released_review_is_visible_to_the_survivor_and_an_unreleased_one_is_not(
    unreleased, client_for
):
    survivor = client_for("survivor")
    page = survivor.get(reverse("reviews-released", args=["kestrel"])).content.decode()
    assert MARK + "reflections.review.responsibility_note" in page
    assert "UNRELEASED" not in page
    # The reviewer's name is not copied; the group's own pages stay closed to the survivor.
    assert "Review by" not in page
    for name, args in (
        ("reflections", []),
        ("reflection", [unreleased.reflection_id]),
        ("review", [unreleased.pk]),
    ):
        assert survivor.get(reverse(name, args=["kestrel", *args])).status_code == 403


def test_a_release_leaves_out_his_quoted_words_unless_chosen_and_can_be_withdrawn(
    unreleased, as_member, client_for
):
    with as_member("contact") as contact:
        copy = services.release(contact, "kestrel", unreleased.pk, with_quotes=False)
    assert copy.responsibility_note == "UNRELEASED note responsibility"
    assert copy.responsibility_quotes == ""
    survivor = client_for("survivor")
    page = survivor.get(reverse("reviews-released", args=["kestrel"])).content.decode()
    assert "UNRELEASED note" in page and "UNRELEASED quote" not in page
    contact_client = client_for("contact")
    response = contact_client.post(reverse("review-withdraw", args=["kestrel", unreleased.pk]))
    assert response.status_code == 302
    assert not ReleasedReview.objects.filter(review=unreleased).exists()
    page = survivor.get(reverse("reviews-released", args=["kestrel"])).content.decode()
    assert "UNRELEASED" not in page


def test_review_history_is_kept_in_order(unreleased, as_member):
    with as_member("contact") as contact:
        services.edit_review(
            contact, "kestrel", unreleased.pk, answers(1, "SECOND"), base_revision=1
        )
        services.edit_review(
            contact, "kestrel", unreleased.pk, answers(2, "THIRD"), base_revision=2
        )
        with pytest.raises(services.Conflict):
            services.edit_review(
                contact, "kestrel", unreleased.pk, answers(2, "x"), base_revision=2
            )
        review = Review.objects.get(pk=unreleased.pk)
        versions = list(review.versions.all())
        assert review.revision == 3 and review.empathy == 2
        assert [v.revision for v in versions] == [2, 1]
        assert [v.empathy_note for v in versions] == [
            "SECOND note empathy",
            "UNRELEASED note empathy",
        ]
        assert [v.empathy for v in versions] == [1, 0]


def test_only_its_author_changes_a_review(unreleased, people, as_member):
    with as_member("support") as support, pytest.raises(PermissionDenied):
        services.edit_review(support, "kestrel", unreleased.pk, answers(2, "x"), base_revision=1)
    Review.objects.filter(pk=unreleased.pk).update(author=people["support"])
    with as_member("contact") as contact, pytest.raises(PermissionDenied):
        services.edit_review(contact, "kestrel", unreleased.pk, answers(2, "x"), base_revision=1)
    Review.objects.filter(pk=unreleased.pk).update(author=people["contact"])


def _upload(client, content: bytes, language: str):
    upload = io.BytesIO(content)
    upload.name = "reflection.txt"
    data = with_token(
        {"written_on": timezone.localdate().isoformat(), "source": "uploaded", "file": upload}
    )
    return client.post(
        reverse("reflection-add", args=["kestrel"]), data, headers={"accept-language": language}
    )


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "a reflection file can be at most 1.0"),
        ("de", "eine Datei mit einer Reflexion darf höchstens 1,0"),
    ],
)
def test_a_2_mb_reflection_is_refused_with_a_clear_message(client_for, language, message):
    client = client_for("contact")
    before = database_state()
    response = _upload(client, b"I was hurt too. " * (2 * 1024 * 1024 // 16), language)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert database_state() == before


def test_a_file_that_is_not_utf8_text_is_refused(client_for):
    client = client_for("contact")
    before = database_state()
    response = _upload(client, "Überlegung".encode("latin-1"), "en")
    assert response.status_code == 400
    assert "This file is not UTF-8 text" in response.content.decode()
    assert database_state() == before


def test_an_uploaded_reflection_is_kept_and_script_in_it_is_shown_as_text(client_for):
    client = client_for("contact")
    response = _upload(client, "<script>alert('his')</script>\nIch war überfordert.".encode(), "en")
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "&lt;script&gt;alert(&#x27;his&#x27;)&lt;/script&gt;" in page
    assert "<script>alert" not in page
    assert "Ich war überfordert." in page


def test_a_reflection_taken_from_a_log_entry_copies_its_text_and_links_it(as_member):
    with as_member("contact") as contact:
        entry = record.add_entry(
            contact,
            "kestrel",
            EntryData(timezone.localdate(), "message", "His email", text="What I went through"),
        )
        reflection = services.add_reflection(
            contact, "kestrel", written_on=timezone.localdate(), source="entry", entry_id=entry.pk
        )
        assert reflection.entry == entry and reflection.text == "What I went through"


def _entry(day: date, tags: list[str]) -> EntryData:
    return EntryData(day, "message", "tagged", direction="from_x", tags=tags)


def test_patterns_count_the_tags_per_quarter(as_member):
    kestrel = Process.objects.get(code="kestrel")
    with as_member("contact") as contact:
        record.add_entries(
            contact,
            "kestrel",
            [
                _entry(date(2017, 1, 5), ["shifting"]),
                _entry(date(2017, 3, 31), ["shifting", "denial"]),
                _entry(date(2017, 4, 1), ["renegotiation", "no_reply"]),
                _entry(date(2017, 11, 15), ["self_victimisation", "denial"]),
                _entry(date(2017, 12, 1), ["no_reply"]),  # counted in no pattern
            ],
        )
    found = figures.patterns(kestrel)["tags"]
    assert [code for code, _label in found["tags"]] == [
        "shifting",
        "renegotiation",
        "self_victimisation",
        "denial",
    ]
    by_label = {p["label"]: p["counts"] for p in found["periods"]}
    # The quiet third quarter is listed too: a silence is part of the pattern.
    assert by_label == {
        "Q1 2017": [2, 0, 0, 1],
        "Q2 2017": [0, 1, 0, 0],
        "Q3 2017": [0, 0, 0, 0],
        "Q4 2017": [0, 0, 1, 1],
    }
    assert found["totals"] == [2, 1, 1, 2]


def test_patterns_give_the_mean_review_score_per_reflection(unreleased, as_member):
    kestrel = Process.objects.get(code="kestrel")
    scores = figures.patterns(kestrel)["scores"]
    # The fixture's reflection (every score 1) and the second one (every score 0).
    assert [row["means"] for row in scores] == [[1.0] * 5, [0.0] * 5]
    with as_member("contact") as contact:
        services.add_review(
            contact, "kestrel", unreleased.reflection_id, answers(2, "b") | {"gain": Answer(None)}
        )
    last = figures.patterns(kestrel)["scores"][-1]
    assert last["reviews"] == 2
    assert last["means"] == [1.0, 1.0, 0.0, 1.0, 1.0]  # "cannot say" counts for nothing


def _queries(process: Process) -> int:
    with CaptureQueriesContext(connection) as seen:
        figures.patterns(process)
    return len(seen)


def test_patterns_cost_the_same_queries_at_10_and_1000_entries(as_member):
    kestrel = Process.objects.get(code="kestrel")
    start = timezone.localdate() - timedelta(days=4 * 365)
    tags = [["shifting"], ["denial", "renegotiation"], [], ["self_victimisation"]]

    def add(n: int, offset: int) -> None:
        with as_member("contact") as contact:
            record.add_entries(
                contact,
                "kestrel",
                [_entry(start + timedelta(days=offset + i), tags[i % 4]) for i in range(n)],
            )

    already = sum(figures.patterns(kestrel)["tags"]["totals"])
    add(10, 0)
    small = _queries(kestrel)
    add(990, 10)
    assert _queries(kestrel) == small
    assert sum(figures.patterns(kestrel)["tags"]["totals"]) == already + sum(
        len(tags[i % 4]) for n in (10, 990) for i in range(n)
    )


def test_the_demo_has_a_self_centred_reflection_released_without_his_words(db, demo_mode):
    from uphold.web import demo

    from .conftest import log_in
    from .test_demo_story import build_demo

    process = build_demo()
    copy = ReleasedReview.objects.get(process=process)
    assert (copy.centring, copy.responsibility, copy.with_quotes) == (2, 0, False)
    account = next(a for a in demo.load_accounts() if a["role"] == "survivor")
    from django.test import Client

    from uphold.accounts.models import User

    survivor = log_in(Client(), User.objects.get(username="survivor"), account["password"])
    page = survivor.get(reverse("reviews-released", args=["kestrel"])).content.decode()
    assert "An apology for her feelings, not for his acts." in page
    assert "hardest of my life" not in page
    tags = figures.patterns(process)["tags"]["totals"]
    assert tags[2] >= 1 and tags[3] >= 1  # his refusal: self-victimisation and denial
