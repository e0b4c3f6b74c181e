"""What bringing mail in costs: a generated mbox of 10,000 messages (one in ten with an
attachment) read by Python's bare `mailbox` module, by Uphold's parser, and imported into a
fresh process's log (summary, then the import: entries, sealed attachments, index, audit
events), side by side in one run. Each is measured in a process of its own, so its peak memory
is its own.

Run: .venv/bin/python bench/mail_import.py [--messages 10000] [--attachment-kb 150]
Prints messages per second and peak memory (resident set) for each, and the ratios to the bare
parse. Not a test: nothing passes or fails.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def generate(path: Path, count: int, attachment_kb: int) -> None:
    from tests.mail_tools import CONTACT, FRIEND, X, eml, mbox_bytes, message

    start = datetime(2019, 1, 1, tzinfo=UTC)
    blob = os.urandom(attachment_kb * 1024)
    with path.open("wb") as out:
        for n in range(count):
            sender, to = [(CONTACT, X), (X, CONTACT), (FRIEND, CONTACT)][n % 3]
            body = f"Message {n}.\nFrom our side: please answer.\n" + "Some words. " * 100
            made = message(sender, to, f"Re: the demands ({n})", body,
                           sent=start + timedelta(hours=3 * n))  # fmt: skip
            if n % 10 == 0:
                made.add_attachment(blob, maintype="application", subtype="pdf",
                                    filename=f"minutes-{n}.pdf")  # fmt: skip
            out.write(mbox_bytes([eml(made)]))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bare(path: Path) -> dict:
    import mailbox

    before = peak_mb()
    started = time.perf_counter()
    count = 0
    for found in mailbox.mbox(str(path), create=False):
        for part in found.walk():
            part.get_payload(decode=True)
        count += 1
    return {"messages": count, "seconds": time.perf_counter() - started, "before_mb": before}


def ours(path: Path) -> dict:
    from uphold.mailin import parse

    before = peak_mb()
    started = time.perf_counter()
    count = 0
    with path.open("rb") as handle:
        for raw in parse.numbered([iter(lambda: handle.read(1024 * 1024), b"")]):
            parse.read(raw)
            count += 1
    return {"messages": count, "seconds": time.perf_counter() - started, "before_mb": before}


def imported(path: Path) -> dict:
    os.environ.update(
        UPHOLD_MODE="test",
        UPHOLD_ARGON2_PROFILE="test",
        UPHOLD_DATA_DIR=tempfile.mkdtemp(prefix="uphold-bench-"),
        DJANGO_SETTINGS_MODULE="uphold.settings",
    )
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    from tests.mail_tools import FRIEND, X
    from uphold.accounts.models import User
    from uphold.accounts.services import acting_as
    from uphold.crypto.keyring import Keyring, using
    from uphold.crypto.services import unlock
    from uphold.mailin import parse, services
    from uphold.people.services import PersonData, add_person
    from uphold.processes.sample import build_process

    call_command("migrate", verbosity=0)
    account = build_process("kestrel", [("support", "support"), ("contact", "contact")])[1]
    user = acting_as(User.objects.get(username="contact"))

    def messages():
        handle = path.open("rb")
        return parse.numbered([iter(lambda: handle.read(1024 * 1024), b"")])

    with using(Keyring(user.pk, unlock(user, account["password"]))):
        friend = add_person(user, "kestrel", PersonData(kind="person", name="A friend",
                                                        relation="friend"))  # fmt: skip
        services.add_address(user, "kestrel", "x", X)
        services.add_address(user, "kestrel", "around", FRIEND, person_id=friend.pk)
        before = peak_mb()
        started = time.perf_counter()
        summary = services.summarise(user, "kestrel", messages(), None)
        summarised = time.perf_counter() - started
        batch = services.import_stream(user, "kestrel", messages(), summary.counts)
    return {
        "messages": batch.counts["imported"],
        "seconds": time.perf_counter() - started,
        "summary_seconds": summarised,
        "before_mb": before,
    }


def measure(kind: str, path: Path) -> dict:
    answer = subprocess.run(
        [sys.executable, __file__, "--measure", kind, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(answer.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--attachment-kb", type=int, default=150)
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.measure:
        kind, path = options.measure
        result = {"bare": bare, "ours": ours, "imported": imported}[kind](Path(path))
        print(json.dumps(result | {"peak_mb": peak_mb()}))
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "generated.mbox"
        generate(path, options.messages, options.attachment_kb)
        size = path.stat().st_size / (1024 * 1024)
        print(f"generated mbox: {options.messages:,} messages, {size:,.0f} MB")
        results = {kind: measure(kind, path) for kind in ("bare", "ours", "imported")}
    base = results["bare"]
    for kind, label in (
        ("bare", "Python's mailbox, bare parse"),
        ("ours", "Uphold's parser (stream)"),
        ("imported", "Uphold's import (summary + write)"),
    ):
        r = results[kind]
        rate = r["messages"] / r["seconds"]
        print(
            f"{label:36} {r['messages']:>6,} msgs {rate:>8,.0f} msg/s"
            f"  x{rate / (base['messages'] / base['seconds']):.2f} of bare"
            f"  peak {r['peak_mb']:>6,.0f} MB (of which {r['peak_mb'] - r['before_mb']:,.0f}"
            f" MB while reading)  x{r['peak_mb'] / base['peak_mb']:.2f} of bare"
        )
    print(f"  (the import's summary alone took {results['imported']['summary_seconds']:.1f} s)")


if __name__ == "__main__":
    main()
