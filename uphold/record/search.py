"""Searching the log. Its text is encrypted, so the search opens it, entry by entry.

It reads the newest entries first, in batches of `BATCH`, and stops after `CAP` of them: a
search costs at most CAP entries' worth of queries and memory however long the log, and says
when older entries were left unread. The words searched for are never stored or logged.
"""

import unicodedata
from dataclasses import dataclass

from django.db.models import Q

from uphold.processes.models import Process

from .queries import log_of

BATCH = 100
CAP = 1000
MAX_QUERY = 200


@dataclass(frozen=True)
class Found:
    ids: list[int]  # the entries found, newest first
    searched: int  # how many entries were read
    complete: bool  # False when the search stopped at the cap with older entries unread


def words_of(query: str) -> list[str]:
    return [_folded(word) for word in query.split()]


def _folded(text: str) -> str:
    """Case and the ways of writing ü or ß do not matter."""
    return unicodedata.normalize("NFKC", text).casefold()


def search_entries(process: Process, query: str, tag: str = "", show: str = "") -> Found:
    """The entries (with `tag` and of `show`, if given) whose summary, people or text hold
    every word."""
    words, cap, batch = words_of(query), CAP, BATCH
    rows = log_of(process, tag, show).only(
        "pk", "process_id", "occurred_on", "summary", "people", "text"
    )
    found: list[int] = []
    searched, rest = 0, rows
    while searched < cap:
        wanted = min(batch, cap - searched)
        chunk = list(rest[:wanted])
        for entry in chunk:
            text = _folded(" ".join((entry.summary, entry.people, entry.text)))
            if all(word in text for word in words):
                found.append(entry.pk)
        searched += len(chunk)
        if len(chunk) < wanted:
            return Found(found, searched, complete=True)
        # The next batch: the entries older than the last one read (the log's order).
        last = chunk[-1]
        rest = rows.filter(
            Q(occurred_on__lt=last.occurred_on) | Q(occurred_on=last.occurred_on, pk__lt=last.pk)
        )
    return Found(found, searched, complete=not rest.exists())
