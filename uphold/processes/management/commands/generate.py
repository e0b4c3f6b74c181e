"""`uphold generate`: realistic sample processes through the real services.

Later features extend `generate_processes` so tests, demos and benchmarks share one source.
"""

import random

from django.core.management.base import CommandError, CommandParser
from django.db import transaction

from uphold.lib.commands import UpholdCommand, whole_number
from uphold.processes.models import Process, Role
from uphold.processes.sample import RealDataPresent, build_process, refuse_beside_real_data

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


def generate_processes(count: int, entries: int, seed: int) -> list[Process]:
    refuse_beside_real_data()
    rng = random.Random(seed)  # noqa: S311  (sample data, repeatable by seed; no secrets)
    made = []
    with transaction.atomic():
        for _ in range(count):
            code = _free_code(rng)
            people = [(f"{code}-{role}-{i}", role) for i, role in enumerate(ROLES)]
            build_process(code, people, title=f"Sample process {code}")
            made.append(Process.objects.get(code=code))
    return made


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
        parser.add_argument("--entries", type=int, default=50, help="log entries per process")
        parser.add_argument("--seed", type=whole_number(), default=1)

    def handle(self, *args, processes: int, entries: int, seed: int, **options) -> None:
        try:
            made = generate_processes(processes, entries, seed)
        except RealDataPresent as error:
            raise CommandError(str(error)) from error
        for process in made:
            self.stdout.write(f"{process.code}\t{process.memberships.count()} members")
