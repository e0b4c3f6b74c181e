"""Every page of a process at 10, 1,000 and 10,000 log entries, measured side by side in one run.

Builds one database per size with `uphold generate --processes 1 --entries N`, then, for each,
logs in as the process's contact member and requests every page of the process (found from the
URL configuration, tests/process_pages.py) `--rounds` times. Prints one table: page, size,
median server time, its ratio to the logged-in home page (the minimal page on the same base
template) measured in the same process at the same moment, and the page's SQL queries. Also
prints how many log entries a second the services write at each size.

Run: .venv/bin/python bench/pages.py [--sizes 10,1000,10000] [--rounds 15] [--out FILE]
Not a test: nothing passes or fails. The goal (#21) is no page above 3x the minimal page.
"""

import argparse
import contextlib
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UPHOLD = [sys.executable, "-m", "uphold.cli"]


def environment(data: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return env | {
        "UPHOLD_MODE": "test",
        "UPHOLD_ARGON2_PROFILE": "test",
        "UPHOLD_DATA_DIR": str(data),
        "PYTHONPATH": str(ROOT),
    }


def build(size: int, data: Path) -> float:
    """Seconds `uphold generate` took."""
    env = environment(data)
    subprocess.run([*UPHOLD, "migrate", "-v0"], env=env, check=True, cwd=ROOT)
    started = time.perf_counter()
    subprocess.run(
        [*UPHOLD, "generate", "--processes", "1", "--entries", str(size), "--seed", "1"],
        env=env,
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def measure(data: Path, rounds: int) -> dict:
    """Runs in a child process per size (its own settings and database)."""
    result = subprocess.run(
        [sys.executable, __file__, "--measure", str(data), "--rounds", str(rounds)],
        env=environment(data),
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def logged_in_contact():
    """In a measuring child: Django set up on the generated database, and the generated
    process's contact member logged in. (account, user, process, client)"""
    os.environ["DJANGO_SETTINGS_MODULE"] = "uphold.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    from tests.conftest import log_in
    from uphold.accounts.models import User
    from uphold.processes.models import Process

    settings.ALLOWED_HOSTS = ["testserver"]
    accounts = json.loads((settings.DATA_DIR / "generated-accounts.json").read_text())
    contact = next(a for a in accounts if a["role"] == "contact")
    user = User.objects.get(username=contact["username"])
    process = Process.objects.get(code=contact["code"])
    return contact, user, process, log_in(Client(), user, contact["password"])


def _measure_here(rounds: int) -> dict:
    contact, user, process, client = logged_in_contact()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.process_pages import process_urls
    from uphold.accounts.services import acting_as
    from uphold.crypto.keyring import Keyring, using
    from uphold.crypto.services import unlock
    from uphold.record import services
    from uphold.record.services import EntryData

    pages = [("home", "/")] + [
        (name, url) for name, url in process_urls(process) if client.get(url).status_code == 200
    ]
    times: dict[str, list[float]] = {name: [] for name, _url in pages}
    queries = {}
    for _round in range(rounds):  # interleaved, so a slow moment of the machine hits all alike
        for name, url in pages:
            started = time.perf_counter()
            response = client.get(url)
            times[name].append(time.perf_counter() - started)
            assert response.status_code == 200, (name, response.status_code)
    for name, url in pages:
        with CaptureQueriesContext(connection) as seen:
            client.get(url)
        queries[name] = len(seen)
    # Writing: entries a second through the service at this size, one by one (a member's
    # form) and as one batch (an import, `uphold generate`), with the queries each costs.
    writer = acting_as(user)
    with using(Keyring(user.pk, unlock(user, contact["password"]))):
        day = process.entries.order_by("-occurred_on")[0].occurred_on

        def entry(i: int) -> EntryData:
            return EntryData(
                occurred_on=day, kind="message", direction="to_x", summary=f"b{i}", text="t" * 400
            )

        writing = {}
        for way, count in (("one by one", 50), ("in a batch", 200)):
            with CaptureQueriesContext(connection) as seen:
                started = time.perf_counter()
                if way == "one by one":
                    for i in range(count):
                        services.add_entry(writer, process.code, entry(i))
                else:
                    services.add_entries(writer, process.code, [entry(i) for i in range(count)])
                elapsed = time.perf_counter() - started
            writing[way] = (count / elapsed, len(seen) / count)
    medians = {name: statistics.median(values) for name, values in times.items()}
    return {"medians": medians, "queries": queries, "writing": writing}


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"{platform.system()} {platform.release()}, {os.cpu_count()} cores ({cpu}), "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,1000,10000")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--out", help="also write the table to this file")
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(_measure_here(args.rounds)))
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    results, built = {}, {}
    with tempfile.TemporaryDirectory(prefix="uphold-bench-pages-") as folder:
        for size in sizes:
            data = Path(folder) / str(size)
            data.mkdir()
            built[size] = build(size, data)
            results[size] = measure(data, args.rounds)
    lines = [
        f"bench/pages.py, {time.strftime('%Y-%m-%d')}, {args.rounds} rounds per page and size",
        f"machine: {machine()}",
        "",
        f"{'page':<22} {'entries':>7} {'median ms':>10} {'ratio':>6} {'queries':>8}",
    ]
    names = [
        n for n in results[sizes[0]]["medians"] if all(n in results[s]["medians"] for s in sizes)
    ]
    worst = {}
    for name in names:
        for size in sizes:
            r = results[size]
            ratio = r["medians"][name] / r["medians"]["home"]
            worst[size] = max(worst.get(size, (0, "")), (ratio, name))
            lines.append(
                f"{name:<22} {size:>7} {r['medians'][name] * 1000:>10.1f} {ratio:>6.1f} "
                f"{r['queries'][name]:>8}"
            )
    lines.append("")
    for size in sizes:
        writing = "; ".join(
            f"{way} {per_second:.0f} entries/s ({queries:.1f} queries each)"
            for way, (per_second, queries) in results[size]["writing"].items()
        )
        lines.append(
            f"{size:>7} entries: generated in {built[size]:.0f} s; slowest page "
            f"{worst[size][1]} at {worst[size][0]:.1f}x the home page; writing {writing}"
        )
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
