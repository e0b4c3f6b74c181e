"""Reads of mail in the log for other pages: an email's thread."""

from uphold.record.models import Entry

from .models import ImportedMessage

THREAD_SHOWN = 20


def thread_of(entry: Entry) -> list[Entry]:
    """The other entries of the same email thread, oldest first (the first 20)."""
    thread = (
        ImportedMessage.objects.filter(entry=entry, process=entry.process_id)
        .exclude(thread="")
        .values_list("thread", flat=True)
        .first()
    )
    if thread is None:
        return []
    return list(
        Entry.objects.filter(process=entry.process_id, mail_message__thread=thread)
        .exclude(pk=entry.pk)
        .order_by("occurred_on", "pk")[:THREAD_SHOWN]
    )
