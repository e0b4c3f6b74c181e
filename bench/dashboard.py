"""The dashboard, the timeline and the PDF reports of a 5,000-entry process, side by side in one
run with the minimal page on the same base template (the logged-in home page).

Builds a database with `uphold generate --processes 1 --entries N`, logs in as the process's
contact member and, `--rounds` times, interleaved: the home page, the dashboard (the overview
page), the timeline (whole process, and its busiest year), each report kind as HTML, and each
report kind as PDF (the Reports page's export, audit event included). Prints the median server
time of each and its ratio to the home page, and the SQL queries of each.

Run: .venv/bin/python bench/dashboard.py [--entries 5000] [--rounds 9] [--out FILE]
Not a test: nothing passes or fails.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pages import ROOT, build, environment, logged_in_contact, machine

KINDS = ("report-back", "survivor-update", "retrospective")


def _measure_here(rounds: int) -> dict:
    _contact, _user, process, client = logged_in_contact()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from uphold.record.models import Entry

    code = process.code
    years = [d.year for d in Entry.objects.filter(process=process).dates("occurred_on", "year")]
    entries = Entry.objects.filter(process=process)
    busiest = max(years, key=lambda y: entries.filter(occurred_on__year=y).count())
    requests = [
        ("home", "get", "/", {}),
        ("dashboard", "get", f"/p/{code}/", {}),
        ("timeline", "get", f"/p/{code}/timeline/", {}),
        ("timeline, one year", "get", f"/p/{code}/timeline/?year={busiest}", {}),
        *((f"{kind} page", "get", f"/p/{code}/reports/?kind={kind}", {}) for kind in KINDS),
        *(
            (f"{kind} PDF", "post", f"/p/{code}/reports/export/", {"kind": kind, "format": "pdf"})
            for kind in KINDS
        ),
    ]
    times: dict[str, list[float]] = {name: [] for name, *_rest in requests}
    queries = {}
    for _round in range(rounds):  # interleaved, so a slow moment of the machine hits all alike
        for name, method, url, data in requests:
            started = time.perf_counter()
            response = getattr(client, method)(url, data)
            times[name].append(time.perf_counter() - started)
            assert response.status_code == 200, (name, response.status_code)
    for name, method, url, data in requests:
        with CaptureQueriesContext(connection) as seen:
            getattr(client, method)(url, data)
        queries[name] = len(seen)
    entries = Entry.objects.filter(process=process).count()
    medians = {name: statistics.median(values) for name, values in times.items()}
    return {"medians": medians, "queries": queries, "entries": entries}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--out", help="also write the table to this file")
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(_measure_here(args.rounds)))
        return
    with tempfile.TemporaryDirectory(prefix="uphold-bench-dashboard-") as folder:
        data = Path(folder)
        built = build(args.entries, data)
        result = subprocess.run(
            [sys.executable, __file__, "--measure", str(data), "--rounds", str(args.rounds)],
            env=environment(data),
            check=True,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        found = json.loads(result.stdout.strip().splitlines()[-1])
    home = found["medians"]["home"]
    lines = [
        f"bench/dashboard.py, {time.strftime('%Y-%m-%d')}, {args.rounds} rounds, "
        f"{found['entries']} log entries (generated in {built:.0f} s)",
        f"machine: {machine()}",
        "",
        f"{'request':<28} {'median ms':>10} {'ratio':>7} {'queries':>8}",
    ]
    for name, median in found["medians"].items():
        lines.append(
            f"{name:<28} {median * 1000:>10.1f} {median / home:>7.1f} {found['queries'][name]:>8}"
        )
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
