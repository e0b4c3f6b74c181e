"""Contact health is folded from the log as entries are written, so a page reads one row; the
figures are always the log folded afresh, and `uphold verify` says so or names the difference."""

import random
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from uphold.processes.models import Process
from uphold.record import services
from uphold.record.health import compute, fold, health_of, stored_differs
from uphold.record.models import Entry, HealthState
from uphold.record.services import EntryData

START = date(2016, 1, 15)


def _events(process: Process) -> list[tuple[date, str, str]]:
    return list(
        Entry.objects.filter(process=process)
        .order_by("occurred_on", "pk")
        .values_list("occurred_on", "direction", "kind")
    )


@pytest.mark.parametrize("seed", range(4))
def test_the_kept_figures_are_the_log_folded_afresh_whatever_the_order(as_member, seed):
    """Entries in order (folded in one by one), dated earlier (folded again) and edited."""
    rng = random.Random(seed)
    kestrel = Process.objects.get(code="kestrel")
    with as_member("contact") as contact:
        day = START
        for i in range(40):
            day += timedelta(days=rng.choice([0, 1, 5, 30, 200]))
            when = day if rng.random() < 0.8 else START + timedelta(days=rng.randint(0, 400))
            kind, direction = rng.choice(
                [("message", "to_x"), ("message", "from_x"), ("note", "none"),
                 ("meeting_held", "none"), ("meeting_missed", "none"), ("message", "to_circle")]
            )  # fmt: skip
            entry = services.add_entry(
                contact, "kestrel",
                EntryData(occurred_on=when, kind=kind, direction=direction, summary=f"e{i}"),
            )  # fmt: skip
            if rng.random() < 0.1:
                services.edit_entry(
                    contact, "kestrel", entry.pk,
                    EntryData(occurred_on=when - timedelta(days=3), kind="message",
                              direction="from_x", summary="edited"),
                    base_revision=entry.revision,
                )  # fmt: skip
            assert not stored_differs(kestrel), i
    today = day + timedelta(days=10)
    assert health_of(kestrel, today) == compute(_events(kestrel), _steps(kestrel), today)


def _steps(process: Process) -> dict[str, int]:
    from django.db.models import Count

    from uphold.record.models import Step

    return dict(Step.objects.filter(process=process).values_list("status").annotate(n=Count("pk")))


def test_a_page_reads_the_figures_in_the_same_queries_however_long_the_log(as_member, client_for):
    kestrel = Process.objects.get(code="kestrel")
    client = client_for("contact")
    url = reverse("process", args=["kestrel"])

    def queries() -> int:
        with CaptureQueriesContext(connection) as seen:
            assert client.get(url).status_code == 200
        return len(seen)

    before = queries()
    with as_member("contact") as contact:
        for i in range(30):
            services.add_entry(
                contact, "kestrel",
                EntryData(occurred_on=START + timedelta(days=i), kind="message",
                          direction="to_x", summary="x"),
            )  # fmt: skip
    assert queries() == before
    # And the page did not read the log for them: the row holds them.
    assert HealthState.objects.get(process=kestrel).tally == fold(kestrel.pk).as_json()


@pytest.mark.tampers  # changes the stored figures behind Uphold's back
@pytest.mark.parametrize(
    "forged", [{"longest_closed": 3}, {"held": 9}, {"unanswered": "many"}, {"reply_days": 7}]
)
def test_figures_changed_in_the_database_are_named_by_verify_and_folded_again(
    people, client_for, forged
):
    kestrel = Process.objects.get(code="kestrel")
    call_command("verify", stdout=StringIO())  # untouched: passes
    state = HealthState.objects.get(process=kestrel)
    HealthState.objects.filter(pk=state.pk).update(tally=state.tally | forged)
    # The page never fails on them: a tally it cannot read is folded afresh.
    assert client_for("contact").get(reverse("process", args=["kestrel"])).status_code == 200
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("verify", stdout=StringIO(), stderr=err)
    assert (
        "kestrel: the contact health figures stored for its pages did not match" in err.getvalue()
    )
    assert not stored_differs(kestrel)
    call_command("verify", stdout=StringIO())


def test_a_process_from_before_the_tally_gets_it_at_migrate(people):
    """`uphold migrate` folds the processes that have no tally yet, once."""
    from uphold.record.apps import fold_unfolded

    kestrel = Process.objects.get(code="kestrel")
    HealthState.objects.filter(process=kestrel).delete()
    fold_unfolded()
    assert HealthState.objects.get(process=kestrel).tally == fold(kestrel.pk).as_json()
