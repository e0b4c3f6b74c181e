"""Keys held outside their role: every sealed key row and calendar link, checked against the
one role rule (scopes.may_hold). `uphold verify` reports them; the members page warns."""

from uphold.crypto.keyring import Keyring
from uphold.crypto.services import Stray, stray_keys
from uphold.record.calendar import stray_feeds

from . import scopes
from .models import Process


def keys_outside_roles(process: Process, ring: Keyring | None = None) -> list[Stray]:
    """Without a keyring, the role check alone; with one, also the attestations it can open."""
    if ring is not None:
        ring.preload(process.pk)
    found = stray_keys(process, ring) + stray_feeds(process, ring)
    for stray in found:
        stray.label = str(scopes.LABELS.get(stray.scope, stray.scope))
    return found
