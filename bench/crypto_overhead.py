"""What encryption at rest costs a page: the documents page of a process with 1,000 documents,
rendered with the names decrypted (opening the scope key from the session first, as every
request does) and, side by side in the same run, the same page given the names in clear.

Run: .venv/bin/python bench/crypto_overhead.py [--documents 1000] [--rounds 20]
Prints milliseconds per request for both and their ratio. Not a test: nothing passes or fails.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("UPHOLD_MODE", "test")
os.environ.setdefault("UPHOLD_ARGON2_PROFILE", "test")
os.environ["UPHOLD_DATA_DIR"] = tempfile.mkdtemp(prefix="uphold-bench-")
os.environ.pop("DATABASE_URL", None)
os.environ["DJANGO_SETTINGS_MODULE"] = "uphold.settings"

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402


def build(documents: int) -> dict:
    from uphold.accounts.models import User
    from uphold.accounts.services import acting_as
    from uphold.attachments.services import Writer
    from uphold.crypto.keyring import Keyring, using
    from uphold.crypto.services import unlock
    from uphold.processes.sample import build_process

    call_command("migrate", verbosity=0)
    support = build_process("kestrel", [("support", "support")])[0]
    user = acting_as(User.objects.get(username="support"))
    with using(Keyring(user.pk, unlock(user, support["password"]))):
        for n in range(documents):
            writer = Writer(user, "kestrel", "record", f"minutes of meeting {n}.pdf")
            writer.write(b"x" * 100)
            writer.finish()
    return support


def logged_in_client(account: dict) -> Client:
    from uphold.accounts.services import totp_code

    client = Client()
    client.post(
        "/login/",
        {
            "username": account["username"],
            "password": account["password"],
            "code": totp_code(account["totp_key"]),
        },
    )
    return client


def timed(client: Client, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        response = client.get("/p/kestrel/documents/")
        times.append(time.perf_counter() - start)
        assert response.status_code == 200
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    setup_test_environment()
    account = build(args.documents)
    client = logged_in_client(account)

    from uphold.attachments import views
    from uphold.attachments.models import Attachment

    names = {a.pk: f"document {n}" for n, a in enumerate(Attachment.objects.all())}
    encrypted_documents = views._documents

    def clear_documents(membership):
        # The same rows, query and template; only the names come in clear.
        return [
            {"attachment": a, "name": names[a.pk]}
            for a in Attachment.objects.filter(process=membership.process, complete=True).order_by(
                "-created_at"
            )
        ]

    timed(client, 3)  # warm up both paths
    encrypted, clear = [], []
    for _ in range(args.rounds):  # interleaved, so both see the same machine
        views._documents = encrypted_documents
        encrypted += timed(client, 1)
        views._documents = clear_documents
        clear += timed(client, 1)
    views._documents = encrypted_documents
    enc_ms, clear_ms = statistics.median(encrypted) * 1000, statistics.median(clear) * 1000
    print(f"documents page with {args.documents} names, median of {args.rounds} requests each")
    print(f"  names decrypted (scope key opened from the session): {enc_ms:8.1f} ms")
    print(f"  names in clear:                                      {clear_ms:8.1f} ms")
    print(f"  ratio encrypted / clear:                             {enc_ms / clear_ms:8.2f}")
    print(
        f"  cost per decrypted field:                            "
        f"{(enc_ms - clear_ms) * 1000 / args.documents:8.1f} µs"
    )


if __name__ == "__main__":
    main()
