"""Meetings as iCalendar: one file per meeting, and a feed per member.

A feed is read by calendar apps without a login, so without a key: by default it holds only
what is in clear (the time, the process code, whether X is expected). A member may opt in to
the place: then the link's secret is the key to a copy of each meeting's place, sealed to the
feed's own key pair when a member plans the meeting (DESIGN.md, "Links that work without a
login"). The meeting's own .ics, downloaded by a logged-in member, holds the place.

A place is sealed to a feed only if the feed's member may hold the scope the place is written
under (processes.scopes.may_hold) and the feed carries an attestation under the `record` key,
so a feed row or public key inserted into the database receives nothing.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from uphold.accounts.models import User
from uphold.audit import services as audit
from uphold.audit.models import Kind
from uphold.crypto import keyring, primitives
from uphold.crypto.keyring import Keyring, NoKey
from uphold.crypto.services import Stray
from uphold.processes import scopes
from uphold.processes.models import Membership, Process
from uphold.processes.permissions import authorize

from .models import CalendarFeed, FeedPlace, Meeting, Outcome, meeting_place_scope

MEETING_LENGTH = timedelta(hours=2)


def _uid(meeting: Meeting) -> str:
    """Stable per meeting, without giving away how many meetings the server holds."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "uphold"
    return f"{salted_hmac('uphold-meeting-uid', str(meeting.pk)).hexdigest()[:32]}@{domain}"


def build(meetings: list[Meeting], *, details: bool, places: dict[int, str] | None = None) -> bytes:
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
        if details and meeting.outcome in (Outcome.CANCELLED, Outcome.POSTPONED):
            event.add("status", "CANCELLED")
        place = meeting.place if details else (places or {}).get(meeting.pk, "")
        if place:
            event.add("location", place)
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


def _token_key(token: str) -> bytes:
    """The key a link's secret stands for; the secret itself is 256 random bits."""
    return hashlib.blake2b(token.encode(), digest_size=32, person=b"uphold-feed-key").digest()


def _context(feed: CalendarFeed) -> bytes:
    return f"calendar-feed|{feed.pk}".encode()


def create_feed(
    actor: User, process: Process | str, *, with_place: bool = False
) -> tuple[CalendarFeed, str]:
    """A new feed link for this member; the secret is shown once and only its hash is kept."""
    membership = authorize(actor, "calendar.feed", process)
    token = secrets.token_urlsafe(32)
    ring = keyring.current()
    with transaction.atomic():
        feed = CalendarFeed.objects.create(
            membership=membership, token_hash=hash_token(token), with_place=with_place
        )
        if with_place:
            public, private = primitives.new_key_pair()
            feed.public_key = public
            feed.sealed_private = primitives.encrypt(_token_key(token), private, _context(feed))
            generation, key = ring.scope_key(membership.process_id, scopes.RECORD)
            feed.attestation = _attestation(key, feed, generation)
            feed.attested_generation = generation
            feed.save(
                update_fields=["public_key", "sealed_private", "attestation", "attested_generation"]
            )
            for meeting in Meeting.objects.filter(process=membership.process):
                _seal_place(feed, meeting, ring)
        audit.record(actor, membership.process, Kind.CREATE, feed)
    return feed, token


def _attestation(key: bytes, feed: CalendarFeed, generation: int) -> str:
    membership = feed.membership
    message = f"calendar-feed|{membership.process_id}|{generation}|{feed.pk}|{membership.pk}|"
    message += f"{membership.user_id}|"
    return primitives.key_mac(key, b"uphold-feed", message.encode() + bytes(feed.public_key or b""))


def _attested(feed: CalendarFeed, ring: Keyring) -> bool:
    if not feed.public_key or feed.attested_generation is None:
        return False
    if feed.attested_generation not in ring.live_generations(
        feed.membership.process_id, scopes.RECORD
    ):
        return False  # a retired key: a former member may have made it
    try:
        _g, key = ring.scope_key(
            feed.membership.process_id, scopes.RECORD, feed.attested_generation
        )
    except (NoKey, primitives.CryptoError):
        return False
    return primitives.same_mac(feed.attestation, _attestation(key, feed, feed.attested_generation))


def _may_receive(feed: CalendarFeed, meeting: Meeting) -> bool:
    return scopes.may_hold(feed.membership, meeting.process_id, meeting_place_scope(meeting))


def _seal_place(feed: CalendarFeed, meeting: Meeting, ring: Keyring) -> None:
    if not (_may_receive(feed, meeting) and _attested(feed, ring)):
        return
    try:
        place = meeting.place
    except NoKey:
        return
    FeedPlace.objects.update_or_create(
        feed=feed,
        meeting=meeting,
        defaults={"sealed": primitives.seal_to(bytes(feed.public_key), place.encode())},
    )


def share_place(meeting: Meeting) -> None:
    """Seals a meeting's place to every live feed of its process that asked for places and
    whose member may read it."""
    ring = keyring.current()
    for feed in CalendarFeed.objects.select_related("membership").filter(
        membership__process=meeting.process, with_place=True, revoked_at__isnull=True
    ):
        _seal_place(feed, meeting, ring)


def reattest_feeds(
    sender, *, process: Process, scope: str, reader: Keyring, writer: Keyring, **kwargs
) -> None:
    """After the `record` key is replaced: genuine feeds are attested under the new key; a feed
    whose attestation does not hold loses it (and receives nothing more)."""
    if scope != scopes.RECORD:
        return
    generation, key = writer.scope_key(process.pk, scopes.RECORD)
    for feed in CalendarFeed.objects.select_related("membership").filter(
        membership__process=process, with_place=True, revoked_at__isnull=True
    ):
        attestation = _attestation(key, feed, generation) if _attested(feed, reader) else ""
        CalendarFeed.objects.filter(pk=feed.pk).update(
            attestation=attestation, attested_generation=generation if attestation else None
        )


def stray_feeds(process: Process, ring: Keyring | None = None) -> list[Stray]:
    """Places held by a feed whose member may not read them, and (with a `record` key) feeds
    that no holder of that key made."""
    found = []
    for place in FeedPlace.objects.filter(feed__membership__process=process).select_related(
        "feed__membership__user", "meeting"
    ):
        if not _may_receive(place.feed, place.meeting):
            found.append(
                Stray(
                    meeting_place_scope(place.meeting),
                    place.feed.membership.user.username,
                    _("has a calendar link holding a place their role does not read"),
                )
            )
    if ring is not None and ring.holds(process.pk, scopes.RECORD):
        for feed in CalendarFeed.objects.select_related("membership__user").filter(
            membership__process=process, with_place=True, revoked_at__isnull=True
        ):
            if not _attested(feed, ring):
                found.append(
                    Stray(
                        scopes.RECORD,
                        feed.membership.user.username,
                        _("has a calendar link that no member made, or its key was replaced"),
                    )
                )
    return found


def revoke_feed(actor: User, process: Process | str, feed_id: int) -> None:
    membership = authorize(actor, "calendar.feed", process)
    with transaction.atomic():
        feed = CalendarFeed.objects.filter(
            membership=membership, pk=feed_id, revoked_at__isnull=True
        ).first()
        if feed is None:
            return
        feed.places.all().delete()
        feed.revoked_at, feed.public_key, feed.sealed_private = timezone.now(), None, None
        feed.save(update_fields=["revoked_at", "public_key", "sealed_private"])
        audit.record(actor, membership.process, Kind.REVOKE, feed)


def feed_calendar(token: str) -> bytes | None:
    """The calendar of a live feed, or None when the token is unknown or revoked."""
    feed = (
        CalendarFeed.objects.select_related("membership__process", "membership__user")
        .filter(token_hash=hash_token(token), revoked_at__isnull=True)
        .first()
    )
    if feed is None or not feed.membership.user.is_active:
        return None
    membership: Membership = feed.membership
    since = timezone.now() - timedelta(days=90)
    # Cancelled and postponed meetings drop out of the feed (calendar apps remove them); the
    # feed does not say which outcome a meeting had.
    meetings = list(
        Meeting.objects.filter(process=membership.process, planned_at__gte=since)
        .exclude(outcome__in=[Outcome.CANCELLED, Outcome.POSTPONED])
        .select_related("process")
        .order_by("planned_at")
    )
    places = {}
    if feed.with_place and feed.sealed_private:
        private = primitives.decrypt(_token_key(token), bytes(feed.sealed_private), _context(feed))
        for meeting_id, sealed in feed.places.values_list("meeting_id", "sealed"):
            places[meeting_id] = primitives.open_sealed(private, bytes(sealed)).decode()
    return build(meetings, details=False, places=places)
