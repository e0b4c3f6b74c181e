"""Meetings as iCalendar: one file per meeting, and a feed per member.

A feed is read by calendar apps without a login, so without a key: it holds only what is in
clear (the time, the process code, whether X is expected). The meeting's own .ics, downloaded
by a logged-in member, also holds the place.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from uphold.accounts.models import User
from uphold.audit import services as audit
from uphold.audit.models import Kind
from uphold.processes.models import Membership, Process
from uphold.processes.permissions import authorize

from .models import CalendarFeed, Meeting, Outcome

MEETING_LENGTH = timedelta(hours=2)


def _uid(meeting: Meeting) -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "uphold"
    return f"uphold-meeting-{meeting.process.code}-{meeting.pk}@{domain}"


def build(meetings: list[Meeting], *, details: bool) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Uphold//Meetings//EN")
    calendar.add("version", "2.0")
    for meeting in meetings:
        event = Event()
        event.add("uid", _uid(meeting))
        event.add("dtstamp", timezone.now())
        event.add("dtstart", meeting.planned_at)
        event.add("dtend", meeting.planned_at + MEETING_LENGTH)
        event.add(
            "summary", _("Uphold: meeting, process %(code)s") % {"code": meeting.process.code}
        )
        if meeting.outcome in (Outcome.CANCELLED, Outcome.POSTPONED):
            event.add("status", "CANCELLED")
        if details and meeting.place:
            event.add("location", meeting.place)
        event.add(
            "description",
            _("X is expected.") if meeting.x_expected else _("Within the group."),
        )
        calendar.add_component(event)
    return calendar.to_ical()


def response(ics: bytes, filename: str) -> HttpResponse:
    reply = HttpResponse(ics, content_type="text/calendar; charset=utf-8")
    reply["Content-Disposition"] = f'attachment; filename="{filename}"'
    return reply


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_feed(actor: User, process: Process | str) -> tuple[CalendarFeed, str]:
    """A new feed link for this member; the secret is shown once and only its hash is kept."""
    membership = authorize(actor, "calendar.feed", process)
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        feed = CalendarFeed.objects.create(membership=membership, token_hash=hash_token(token))
        audit.record(actor, membership.process, Kind.CREATE, feed)
    return feed, token


def revoke_feed(actor: User, process: Process | str, feed_id: int) -> None:
    membership = authorize(actor, "calendar.feed", process)
    with transaction.atomic():
        feed = CalendarFeed.objects.filter(
            membership=membership, pk=feed_id, revoked_at__isnull=True
        ).first()
        if feed is None:
            return
        feed.revoked_at = timezone.now()
        feed.save(update_fields=["revoked_at"])
        audit.record(actor, membership.process, Kind.REVOKE, feed)


def feed_meetings(token: str) -> list[Meeting] | None:
    """The meetings of a live feed's process, or None when the token is unknown or revoked."""
    feed = (
        CalendarFeed.objects.select_related("membership__process", "membership__user")
        .filter(token_hash=hash_token(token), revoked_at__isnull=True)
        .first()
    )
    if feed is None or not feed.membership.user.is_active:
        return None
    membership: Membership = feed.membership
    since = timezone.now() - timedelta(days=90)
    return list(
        Meeting.objects.filter(process=membership.process, planned_at__gte=since)
        .select_related("process")
        .order_by("planned_at")
    )
