"""`uphold generate`: realistic sample processes through the real services.

Each process gets the report's roles, its letter and demands (one changed), and a record of
`--entries` log entries over up to four and a half years (record/generated.py). The accounts,
with their passwords and authenticator keys, are written to `generated-accounts.json` in the
data folder (owner-only), so the benchmark and a tester can log in.
"""

import contextlib
import json
import random
from collections.abc import Iterator

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.db import transaction

from uphold.accounts.models import User
from uphold.accounts.services import acting_as
from uphold.crypto import keyring
from uphold.crypto.keyring import Keyring
from uphold.crypto.services import unlock
from uphold.lib.commands import UpholdCommand, whole_number
from uphold.processes.models import Process, Role
from uphold.processes.sample import RealDataPresent, build_process, refuse_beside_real_data
from uphold.record import generated

MAX_ENTRIES = 20000

WORDS = [
    "kestrel", "heron", "swift", "plover", "curlew", "merlin", "osprey", "wren", "linnet",
    "dunlin", "avocet", "bittern", "godwit", "redstart", "siskin", "twite", "whimbrel",
    "skylark", "stonechat", "warbler",
]  # fmt: skip

# Roughly the report's groups: a support group, five volunteers, a community group, X.
ROLES = (
    [Role.SUPPORT, Role.SUPPORT, Role.SURVIVOR]
    + [Role.CONTACT] * 5
    + [
        Role.COMMUNITY,
        Role.COMMUNITY,
        Role.RESPONDENT,
    ]
)


def generate_processes(count: int, entries: int, seed: int) -> tuple[list[Process], list[dict]]:
    """The processes made, and every account made for them (with `code` and `role`)."""
    refuse_beside_real_data()
    rng = random.Random(seed)  # noqa: S311  (sample data, repeatable by seed; no secrets)
    made, accounts = [], []
    with transaction.atomic():
        for _ in range(count):
            code = _free_code(rng)
            people = [(f"{code}-{role}-{i}", role) for i, role in enumerate(ROLES)]
            mine = build_process(code, people, title=f"Sample process {code}")
            first = {role: next(a for a in mine if a["role"] == role) for role in Role.values}
            with _acting(first[Role.SUPPORT]) as support:
                generated.fill_demands(code, support)
            with _acting(first[Role.CONTACT]) as contact:
                generated.fill_record(code, contact, entries, rng)
            made.append(Process.objects.get(code=code))
            accounts += [{**account, "code": code} for account in mine]
    return made, accounts


@contextlib.contextmanager
def _acting(account: dict) -> Iterator[User]:
    """Acts as that account with its keys, as after a login."""
    user = acting_as(User.objects.get(username=account["username"]))
    with keyring.using(Keyring(user.pk, unlock(user, account["password"]))):
        yield user


def accounts_file():
    return settings.DATA_DIR / "generated-accounts.json"


def save_accounts(accounts: list[dict]) -> None:
    """Added to those of earlier runs; readable by the owner alone."""
    path = accounts_file()
    before = json.loads(path.read_text()) if path.exists() else []
    path.write_text(json.dumps(before + accounts, indent=2))
    path.chmod(0o600)


def _free_code(rng: random.Random) -> str:
    taken = set(Process.objects.values_list("code", flat=True))
    while True:
        code = f"{rng.choice(WORDS)}-{rng.randrange(100, 1000)}"
        if code not in taken:
            return code


class Command(UpholdCommand):
    help = "Fill sample processes (refuses to run on a database with real processes)."

    needs_database = True

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--processes", type=whole_number(1, 100), default=3, help="how many (1 to 100)"
        )
        parser.add_argument(
            "--entries",
            type=whole_number(0, MAX_ENTRIES),
            default=50,
            help=f"log entries per process (0 to {MAX_ENTRIES})",
        )
        parser.add_argument("--seed", type=whole_number(), default=1)

    def handle(self, *args, processes: int, entries: int, seed: int, **options) -> None:
        try:
            made, accounts = generate_processes(processes, entries, seed)
        except RealDataPresent as error:
            raise CommandError(str(error)) from error
        save_accounts(accounts)
        for process in made:
            self.stdout.write(
                f"{process.code}\t{process.memberships.count()} members\t"
                f"{process.entries.count()} log entries"
            )
        self.stdout.write(f"Accounts and passwords: {accounts_file()}")
