"""Reading a CSV file of programmes for the directory: every row checked before any is added.

The file has a header row with fixed column names (COLUMNS, any order; each one once). A
refusal lists each problem with its row (the header is row 1, as in a spreadsheet) and its
column, in the member's language, and nothing is imported.
"""

import csv
import io
from dataclasses import dataclass

from django.db import IntegrityError
from django.utils.translation import gettext as _

from uphold.accounts.models import User
from uphold.processes.permissions import authorize

from . import services
from .models import Kind, Programme
from .services import ProgrammeData

COLUMNS = ("name", "region", "kind", "languages", "contact", "notes", "hears_survivor")
REQUIRED = frozenset({"name", "kind"})
MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
SHOWN = 50
KINDS = {"group": Kind.GROUP, "one_to_one": Kind.ONE_TO_ONE, "one-to-one": Kind.ONE_TO_ONE}
KINDS["online"] = Kind.ONLINE
YES = {"yes", "y", "true", "1", "ja", "j"}
NO = {"no", "n", "false", "0", "nein", ""}


@dataclass(frozen=True)
class RowError:
    row: int
    column: str  # a column name, or "" when the problem is the row or the file itself
    message: str

    def __str__(self) -> str:
        if self.column:
            return _("Row %(row)s, column “%(column)s”: %(message)s") % {
                "row": self.row,
                "column": self.column,
                "message": self.message,
            }
        return _("Row %(row)s: %(message)s") % {"row": self.row, "message": self.message}


class Refused(Exception):
    """The file was not imported; `errors` says why, each with its row and column."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(str(errors[0]))
        self.errors = errors

    @property
    def shown(self) -> list[RowError]:
        return self.errors[:SHOWN]

    @property
    def more(self) -> int:
        return max(0, len(self.errors) - SHOWN)


def _text(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise Refused(
            [
                RowError(
                    1,
                    "",
                    _("The file is %(size)s MB; it may be at most %(max)s MB. Split it.")
                    % {"size": f"{len(data) / 2**20:.1f}", "max": MAX_BYTES // 2**20},
                )
            ]
        )
    if b"\x00" in data:
        row = data[: data.index(b"\x00")].count(b"\n") + 1
        raise Refused([RowError(row, "", _("This is not a CSV file: it holds binary data."))])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        row = data[: error.start].count(b"\n") + 1
        raise Refused(
            [
                RowError(
                    row,
                    "",
                    _(
                        "This is not UTF-8 text. Save the file as “CSV UTF-8” in your "
                        "spreadsheet and upload it again."
                    ),
                )
            ]
        ) from error
    if not text.strip():
        raise Refused([RowError(1, "", _("The file is empty: it needs a header row."))])
    return text


def _header(row: list[str]) -> list[str]:
    names = [cell.strip().lower() for cell in row]
    errors = []
    for position, name in enumerate(names, start=1):
        if name not in COLUMNS:
            errors.append(
                RowError(
                    1,
                    name or str(position),
                    _("Not a column of the directory. The columns are: %(columns)s.")
                    % {"columns": ", ".join(COLUMNS)},
                )
            )
        elif names.index(name) != position - 1:
            errors.append(RowError(1, name, _("This column is in the header twice.")))
    for name in COLUMNS:
        if name in REQUIRED and name not in names:
            errors.append(RowError(1, name, _("The header has no such column; it is needed.")))
    if errors:
        raise Refused(errors)
    return names


def _yes_no(value: str) -> bool | None:
    folded = value.strip().lower()
    if folded in YES:
        return True
    if folded in NO:
        return False
    return None


def _row(number: int, names: list[str], cells: list[str]) -> tuple[ProgrammeData, list]:
    errors: list[RowError] = []
    if len(cells) != len(names):
        errors.append(
            RowError(
                number,
                names[min(len(cells), len(names) - 1)],
                _("This row has %(found)s values; the header has %(columns)s columns.")
                % {"found": len(cells), "columns": len(names)},
            )
        )
        return ProgrammeData(name="", kind=""), errors
    values = dict(zip(names, cells, strict=True))
    kind = KINDS.get(values.get("kind", "").strip().lower(), "")
    if not kind:
        errors.append(
            RowError(
                number,
                "kind",
                _("“%(value)s” is not a kind: write group, one_to_one or online.")
                % {"value": values.get("kind", "")[:40]},
            )
        )
    hears = _yes_no(values.get("hears_survivor", ""))
    if hears is None:
        errors.append(
            RowError(
                number,
                "hears_survivor",
                _("“%(value)s” is not yes or no: write yes or no.")
                % {"value": values["hears_survivor"][:40]},
            )
        )
    raw_languages = values.get("languages", "")
    data = ProgrammeData(
        name=values.get("name", ""),
        kind=kind or Kind.GROUP,
        region=values.get("region", ""),
        languages=[raw_languages],
        contact=values.get("contact", ""),
        notes=values.get("notes", ""),
        hears_survivor=bool(hears),
    )
    data, found = services.clean_programme(data)
    for column in names:
        for message in found.get(column, []):
            if message and column != "kind":
                errors.append(RowError(number, column, message))
    return data, errors


def read(data: bytes) -> list[ProgrammeData]:
    """The file's programmes, each checked, or Refused with every problem found."""
    text = _text(data)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, ProgrammeData]] = []
    errors: list[RowError] = []
    number = 0
    try:
        names = None
        for number, cells in enumerate(reader, start=1):
            if names is None:
                names = _header(cells)
                continue
            if not any(cell.strip() for cell in cells):
                continue  # a blank line
            if number > MAX_ROWS + 1:
                raise Refused(
                    [
                        RowError(
                            number,
                            "",
                            _("The file has more than %(max)s rows; split it.")
                            % {"max": f"{MAX_ROWS:,}"},
                        )
                    ]
                )
            programme, found = _row(number, names, cells)
            errors += found
            if not found:
                rows.append((number, programme))
    except csv.Error as error:
        raise Refused(
            [
                RowError(
                    number + 1,
                    "",
                    _("This is not a CSV file the directory can read (%(why)s).")
                    % {"why": str(error)[:80]},
                )
            ]
        ) from error
    if names is None:
        raise Refused([RowError(1, "", _("The file is empty: it needs a header row."))])
    errors += _duplicates(rows)
    if errors:
        raise Refused(sorted(errors, key=lambda e: e.row))
    if not rows:
        raise Refused([RowError(2, "", _("The file has a header but no programmes."))])
    return [programme for _n, programme in rows]


def _duplicates(rows: list[tuple[int, ProgrammeData]]) -> list[RowError]:
    errors, first = [], {}
    for number, data in rows:
        key = services.match_key(data.name, data.region)
        if key in first:
            errors.append(RowError(number, "name", services.duplicate_message(first[key])))
        else:
            first[key] = number
    keys = list(first)
    existing: set[str] = set()
    for start in range(0, len(keys), 500):
        existing |= set(
            Programme.objects.filter(match_key__in=keys[start : start + 500]).values_list(
                "match_key", flat=True
            )
        )
    for key in existing:
        errors.append(RowError(first[key], "name", services.duplicate_message()))
    return errors


def import_file(actor: User, data: bytes) -> int:
    """Reads and adds the file's programmes, all or none; returns how many were added."""
    authorize(actor, "programmes.edit")
    try:
        return services.import_programmes(actor, read(data))
    except IntegrityError:
        # A programme of the file was added by someone else meanwhile: say which.
        read(data)
        raise
