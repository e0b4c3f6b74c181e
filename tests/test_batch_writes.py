"""Entries written as one batch (an import, `uphold generate`): all or none, the chain and the
health figures as if written one by one, and what is the same for every entry done once."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from uphold.audit.models import AuditEvent, Checkpoint
from uphold.audit.services import verify, verify_with_key
from uphold.crypto import keyring
from uphold.crypto.fields import checking_keys_once
from uphold.crypto.models import ScopeKey
from uphold.processes.models import Process
from uphold.record import services
from uphold.record.health import fold, stored_differs
from uphold.record.models import Entry
from uphold.record.services import EntryData

START = date(2017, 3, 1)


def _batch(n: int, start: date = START, **overrides) -> list[EntryData]:
    return [
        EntryData(
            occurred_on=start + timedelta(days=3 * i),
            kind="message",
            direction=("to_x", "from_x")[i % 2],
            summary=f"batch {i}",
            text=f"the text of {i}",
            people="a friend",
            **overrides,
        )
        for i in range(n)
    ]


def test_a_batch_reads_back_and_keeps_chain_head_and_health(as_member):
    kestrel = Process.objects.get(code="kestrel")
    before = AuditEvent.objects.filter(process=kestrel).count()
    with as_member("contact") as contact:
        written = services.add_entries(contact, "kestrel", _batch(30, demand_numbers=[1]))
        assert [Entry.objects.get(pk=e.pk).text for e in written] == [
            f"the text of {i}" for i in range(30)
        ]
        assert all(list(e.demands.values_list("number", flat=True)) == [1] for e in written)
        assert verify(kestrel) is None
        assert verify_with_key(keyring.current(), kestrel) is None
    events = AuditEvent.objects.filter(process=kestrel).order_by("seq")
    assert events.count() == before + 30
    assert [e.object_id for e in events[before:]] == [str(e.pk) for e in written]
    assert Checkpoint.objects.get(process=kestrel).seq == events.last().seq
    assert not stored_differs(kestrel)


def test_a_batch_dated_before_the_last_entry_folds_the_health_again(as_member):
    kestrel = Process.objects.get(code="kestrel")
    with as_member("contact") as contact:
        services.add_entries(contact, "kestrel", _batch(5, start=date(2019, 1, 1)))
        services.add_entries(contact, "kestrel", _batch(5, start=date(2016, 1, 1)))
    assert not stored_differs(kestrel)
    assert fold(kestrel.pk).longest_closed is not None


def test_one_bad_entry_writes_none_of_the_batch(as_member):
    kestrel = Process.objects.get(code="kestrel")
    entries, events = Entry.objects.count(), AuditEvent.objects.count()
    batch = _batch(10)
    batch[7].summary = " "
    with as_member("contact") as contact, pytest.raises(ValidationError) as refused:
        services.add_entries(contact, "kestrel", batch)
    assert "summary" in refused.value.message_dict
    assert (Entry.objects.count(), AuditEvent.objects.count()) == (entries, events)
    assert verify(kestrel) is None


def test_a_batch_costs_two_queries_more_for_each_entry_more(as_member):
    """What is the same for every entry is done once: 20 entries more cost 40 queries more
    (each entry's row is written, then sealed, since the seal is bound to the row's id)."""
    costs = {}
    with as_member("contact") as contact:
        services.add_entries(contact, "kestrel", _batch(1, start=date(2019, 12, 1)))  # the tally
        for n, start in ((10, date(2020, 1, 1)), (30, date(2021, 1, 1))):  # each after the last
            with CaptureQueriesContext(connection) as seen:
                services.add_entries(contact, "kestrel", _batch(n, start=start))
            costs[n] = len(seen)
    assert costs[30] - costs[10] == 2 * 20


def test_a_key_retired_while_a_batch_writes_is_caught_before_it_commits(as_member):
    """Within a batch each key is checked at its first seal and again at the end."""
    kestrel = Process.objects.get(code="kestrel")
    with as_member("contact"):
        entry = Entry.objects.filter(process=kestrel).first()
        with pytest.raises(keyring.NoKey), transaction.atomic(), checking_keys_once():
            entry.summary = "sealed with a key still live"
            entry.save()
            ScopeKey.objects.filter(process=kestrel, scope="record").update(active=False)
            entry.summary = "sealed after the rotation finished"
            entry.save()  # the key is remembered as live here, so only the end can catch it
    assert ScopeKey.objects.filter(process=kestrel, scope="record", active=True).exists()
