"""Replacing keys after a member leaves, and surviving a kill at any point of it."""

import json
import os
import random
import shutil
import signal
import subprocess
import sys

import pytest

from uphold.crypto import primitives
from uphold.crypto.fields import generation_of, process_id_of
from uphold.crypto.keyring import Keyring, using
from uphold.crypto.models import ScopeKey, SealedScopeKey
from uphold.crypto.services import unlock
from uphold.processes import scopes
from uphold.processes.services import rotate_keys

from .crypto_tools import every_ciphertext, open_everything
from .rotation_tools import fill_documents, remove_keeping_copies


def opened_with_kept_keys(kept: dict) -> int:
    """The leaver tries every key they kept on every ciphertext, at every generation."""
    keys = [  # the last 32 bytes: after the context each sealed key carries
        primitives.open_sealed(kept["private"], blob)[-primitives.KEY_BYTES :]
        for blob in kept["sealed"].values()
    ]
    opened = 0
    for _model, field, instance, raw in every_ciphertext():
        for key in keys:
            ring = Keyring(None, None)
            for scope in scopes.READERS:
                for generation in range(1, 5):
                    ring.remember(process_id_of(instance), scope, generation, key)
            try:
                field.open(instance, raw, ring)
                opened += 1
            except primitives.CryptoError:
                pass
    return opened


def test_after_rotation_the_leavers_keys_open_nothing(people, accounts):
    fill_documents("support", accounts["support"]["password"], count=2, size=100_000)
    kept = remove_keeping_copies(people["support"], "contact", accounts["contact"]["password"])
    assert opened_with_kept_keys(kept) > 0, "before rotation the kept keys still open the record"
    support = Keyring(
        people["support"].pk, unlock(people["support"], accounts["support"]["password"])
    )
    before = open_everything(support)
    with using(support):
        rotate_keys(people["support"], "kestrel")
    assert opened_with_kept_keys(kept) == 0
    after = open_everything(
        Keyring(people["support"].pk, unlock(people["support"], accounts["support"]["password"]))
    )
    assert after == before
    # The old generation stays, retired, for the chain; the leaver holds no copy of it, and
    # nothing stored is under it any more.
    assert not ScopeKey.objects.filter(process__code="kestrel", generation=1, active=True).exists()
    assert not SealedScopeKey.objects.filter(user=people["contact"]).exists()
    kestrel = ScopeKey.objects.filter(process__code="kestrel").first().process_id
    assert not any(
        generation_of(raw) == 1
        for _m, _f, instance, raw in every_ciphertext()
        if process_id_of(instance) == kestrel
    )
    assert set(
        ScopeKey.objects.filter(process__code="kestrel", active=True).values_list(
            "generation", flat=True
        )
    ) == {2}


def test_other_members_keep_exactly_their_scopes(people, accounts):
    remove_keeping_copies(people["support"], "contact", accounts["contact"]["password"])
    support = Keyring(
        people["support"].pk, unlock(people["support"], accounts["support"]["password"])
    )
    with using(support):
        rotate_keys(people["support"], "kestrel")
    for role in ("survivor", "community", "respondent"):
        user = people[role]
        held = set(
            SealedScopeKey.objects.filter(
                user=user, scope_key__process__code="kestrel"
            ).values_list("scope_key__scope", flat=True)
        )
        membership = user.memberships.get(process__code="kestrel")
        assert held == set(scopes.scopes_of(membership)), role


PREPARE = """
import django, json, sys; django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from uphold.processes.sample import build_process
from uphold.accounts.models import User
from uphold.accounts.services import acting_as
sys.path.insert(0, {root!r})
from tests.rotation_tools import fill_documents, remove_keeping_copies
people = build_process("kestrel", [("support", "support"), ("contact", "contact"),
                                   ("survivor", "survivor"), ("respondent", "respondent")],
                       title="the title")
pw = {{p["username"]: p["password"] for p in people}}
fill_documents("support", pw["support"], count=8, size=500_000)
kept = remove_keeping_copies(acting_as(User.objects.get(username="support")), "contact",
                             pw["contact"])
print(json.dumps({{"passwords": pw, "private": kept["private"].hex(),
                  "sealed": [b.hex() for b in kept["sealed"].values()]}}))
"""

CHECK = """
import django, json, sys; django.setup()
sys.path.insert(0, {root!r})
from uphold.accounts.models import User
from uphold.crypto.keyring import Keyring, using
from uphold.crypto.services import unlock
from uphold.crypto import rotation
from uphold.processes.models import Process
from tests.crypto_tools import every_ciphertext
from tests.test_rotation import opened_with_kept_keys
info = json.loads(open({info!r}).read())

def unreadable(name):
    user = User.objects.get(username=name)
    ring = Keyring(user.pk, unlock(user, info["passwords"][name]))
    bad = 0
    for _m, field, instance, raw in every_ciphertext():
        if field.scope_for(instance) == "record" and name == "survivor":
            continue
        try:
            field.open(instance, raw, ring)
        except Exception:
            bad += 1
    return bad

result = {{"after_kill": {{n: unreadable(n) for n in ("support", "survivor")}}}}
support = User.objects.get(username="support")
ring = Keyring(support.pk, unlock(support, info["passwords"]["support"]))
process = Process.objects.get(code="kestrel")
with using(ring):
    from uphold.accounts.services import acting_as
    from uphold.processes.services import rotate_keys
    rotate_keys(acting_as(support), "kestrel")
result["after_resume"] = {{n: unreadable(n) for n in ("support", "survivor")}}
kept = {{"private": bytes.fromhex(info["private"]),
        "sealed": {{i: bytes.fromhex(b) for i, b in enumerate(info["sealed"])}}}}
result["leaver_opens"] = opened_with_kept_keys(kept)
result["unfinished"] = rotation.unfinished(process) is not None
print(json.dumps(result))
"""


def run_python(code: str, data, **kwargs) -> subprocess.CompletedProcess:
    env = os.environ | {
        "UPHOLD_MODE": "test",
        "UPHOLD_DATA_DIR": str(data),
        "DJANGO_SETTINGS_MODULE": "uphold.settings",
    }
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300, **kwargs
    )


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    data = tmp_path_factory.mktemp("rotation-template")
    root = os.getcwd()
    result = run_python(PREPARE.format(root=root), data)
    assert result.returncode == 0, result.stderr
    (data / "info.json").write_text(result.stdout.strip().splitlines()[-1])
    return data


@pytest.mark.parametrize("run", range(20))
def test_a_rotation_killed_at_a_random_point_loses_nothing(run, prepared, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(prepared, data)
    info = json.loads((data / "info.json").read_text())
    env = os.environ | {
        "UPHOLD_MODE": "test",
        "UPHOLD_DATA_DIR": str(data),
        "UPHOLD_PASSWORD": info["passwords"]["support"],
    }
    env.pop("DATABASE_URL", None)
    rotate = subprocess.Popen(
        [sys.executable, "-m", "uphold.cli", "rotate", "kestrel", "--user", "support"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    # Kill after a random number of progress lines: between the start and the last batch.
    stop_after = random.Random(run).randint(1, 6)
    for _ in range(stop_after):
        if not rotate.stdout.readline():
            break
    rotate.send_signal(signal.SIGKILL)
    rotate.wait()
    check = run_python(CHECK.format(root=os.getcwd(), info=str(data / "info.json")), data)
    assert check.returncode == 0, check.stderr
    result = json.loads(check.stdout.strip().splitlines()[-1])
    assert result["after_kill"] == {"support": 0, "survivor": 0}
    assert result["after_resume"] == {"support": 0, "survivor": 0}
    assert result["leaver_opens"] == 0
    assert not result["unfinished"]


def test_a_key_opened_before_a_rotation_cannot_write_after_it(people, accounts):
    """A request that opened the old key and writes after the rotation finished is refused,
    instead of storing what no remaining member could open."""
    from uphold.crypto.keyring import NoKey
    from uphold.processes.models import Process

    support = Keyring(
        people["support"].pk, unlock(people["support"], accounts["support"]["password"])
    )
    slow_request = Keyring(
        people["contact"].pk, unlock(people["contact"], accounts["contact"]["password"])
    )
    kestrel = Process.objects.get(code="kestrel")
    slow_request.scope_key(kestrel.pk, "record")  # opened at the start of a request
    with using(support):
        rotate_keys(people["support"], "kestrel")
    kestrel.title = "written late"
    with using(slow_request), pytest.raises(NoKey):
        kestrel.save()
