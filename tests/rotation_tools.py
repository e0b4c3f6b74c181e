"""Shared by the rotation tests: a process with many sealed rows, and what a leaver kept."""

from uphold.accounts.models import User
from uphold.accounts.services import acting_as
from uphold.attachments.services import Writer
from uphold.crypto.keyring import Keyring, using
from uphold.crypto.models import SealedScopeKey
from uphold.crypto.services import unlock
from uphold.processes.models import Membership
from uphold.processes.services import remove_member


def fill_documents(username: str, password: str, count: int = 6, size: int = 400_000) -> None:
    user = User.objects.get(username=username)
    with using(Keyring(user.pk, unlock(user, password))):
        for n in range(count):
            writer = Writer(acting_as(user), "kestrel", "record", f"document {n}")
            writer.write(bytes([n % 256]) * size)
            writer.finish()


def remove_keeping_copies(remover: User, leaver_name: str, leaver_password: str) -> dict:
    """Removes a member and returns the scope keys they could have copied before leaving."""
    leaver = User.objects.get(username=leaver_name)
    private = unlock(leaver, leaver_password)
    kept = {
        (s.scope_key.scope, s.scope_key.generation): bytes(s.sealed)
        for s in SealedScopeKey.objects.filter(
            user=leaver, scope_key__process__code="kestrel"
        ).select_related("scope_key")
    }
    membership = Membership.objects.get(user=leaver, process__code="kestrel")
    remove_member(remover, "kestrel", membership.pk)
    return {"private": private, "sealed": kept}
