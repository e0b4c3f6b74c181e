"""The programme directory (shared by the server, kept by its members, imported from CSV all
or none) and a process's referral: who researched it, its status history, X's reasons."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from uphold.audit import services as audit
from uphold.audit.models import Kind as AuditKind
from uphold.processes.models import Process
from uphold.programmes import csvimport, services
from uphold.programmes.models import Programme, ProgrammeVersion, Referral, ReferralChange
from uphold.programmes.queries import referral_figures

from .conftest import database_state, with_token

TODAY = timezone.localdate()
HEADER = "name,region,kind,languages,contact,notes,hears_survivor\n"


def _referral(user, **overrides) -> Referral:
    data = services.ReferralData(
        researched_by="x", status="researching", on=TODAY - timedelta(days=30)
    )
    data.other_name = "Example programme Süd"
    for name, value in overrides.items():
        setattr(data, name, value)
    return services.add_referral(user, "kestrel", data)


# The referral


def test_a_referral_researched_by_the_group_is_counted_as_the_groups(as_member):
    kestrel = Process.objects.get(code="kestrel")
    before = referral_figures(kestrel)
    with as_member("contact") as contact:
        _referral(contact, researched_by="group", other_name="Example programme Ost")
        _referral(contact, researched_by="x", other_name="Example programme West")
        _referral(contact, researched_by="group", other_name="Example programme Mitte")
    figures = referral_figures(kestrel)
    assert figures["researched_by_group"] == before["researched_by_group"] + 2
    assert figures["researched_by_x"] == before["researched_by_x"] + 1
    assert figures["referrals"] == before["referrals"] + 3
    assert figures["by_status"]["researching"] == before["by_status"]["researching"] + 3


def test_the_referral_page_says_when_the_group_did_the_research(as_member, client_for):
    with as_member("contact") as contact:
        by_group = _referral(contact, researched_by="group")
        by_x = _referral(contact, researched_by="x", other_name="Example programme West")
    client = client_for("support")
    warning = "the group doing it for him is the responsibility-shifting"
    page = client.get(reverse("referral", args=["kestrel", by_group.pk])).content.decode()
    assert warning in page
    page = client.get(reverse("referral", args=["kestrel", by_x.pk])).content.decode()
    assert warning not in page
    listing = client.get(reverse("referrals", args=["kestrel"])).content.decode()
    assert "The group researched 2 of these programmes itself" in listing


def test_the_status_history_is_kept_in_order(as_member):
    with as_member("contact") as contact:
        referral = _referral(contact)
        steps = [("researching", "contacted", 20), ("contacted", "initial_contact", 10)]
        steps.append(("initial_contact", "agreed_suitable", 5))
        for seen, status, days_ago in steps:
            services.change_referral(
                contact,
                "kestrel",
                referral.pk,
                status=status,
                status_seen=seen,
                on=TODAY - timedelta(days=days_ago),
            )
        with pytest.raises(ValidationError) as refused:
            services.change_referral(
                contact,
                "kestrel",
                referral.pk,
                status="enrolled",
                status_seen="agreed_suitable",
                on=TODAY - timedelta(days=6),
            )
        assert "on" in refused.value.error_dict
    history = list(referral.changes.values_list("status_before", "status_after", "on"))
    assert [after for _before, after, _on in history] == [
        "researching",
        "contacted",
        "initial_contact",
        "agreed_suitable",
    ]
    assert [on for *_s, on in history] == sorted(on for *_s, on in history)
    referral.refresh_from_db(fields=["status", "status_on"])
    assert (referral.status, referral.status_on) == ("agreed_suitable", TODAY - timedelta(days=5))


def test_a_change_made_against_an_older_status_is_a_conflict(as_member):
    with as_member("contact") as contact:
        referral = _referral(contact)
        services.change_referral(
            contact, "kestrel", referral.pk, status="contacted", status_seen="researching", on=TODAY
        )
        with pytest.raises(services.Conflict):
            services.change_referral(
                contact,
                "kestrel",
                referral.pk,
                status="enrolled",
                status_seen="researching",
                on=TODAY,
            )
    assert referral.changes.count() == 2


def test_a_refusal_keeps_xs_reason_and_is_not_recorded_without_one(as_member):
    reason = "considers himself different from the other perpetrators"
    with as_member("contact") as contact:
        referral = _referral(contact)
        with pytest.raises(ValidationError) as refused:
            services.change_referral(
                contact,
                "kestrel",
                referral.pk,
                status="refused",
                status_seen="researching",
                on=TODAY,
            )
        assert "reasons" in refused.value.error_dict
        services.change_referral(
            contact,
            "kestrel",
            referral.pk,
            status="refused",
            status_seen="researching",
            on=TODAY,
            reasons=reason,
        )
        last = referral.changes.order_by("-pk").first()
        assert (last.status_after, last.reasons) == ("refused", reason)
    stored = ReferralChange.objects.filter(pk=last.pk).values_list("reasons", flat=True).get()
    assert reason.encode() not in bytes(stored), "X's reasons are sealed under record"


def test_the_survivors_contact_route_is_recorded_once_with_its_day(as_member):
    with as_member("contact") as contact:
        referral = _referral(contact)
        services.change_referral(
            contact,
            "kestrel",
            referral.pk,
            status="contacted",
            status_seen="researching",
            on=TODAY - timedelta(days=2),
            passed_contact_route=True,
        )
        with pytest.raises(ValidationError):
            services.change_referral(
                contact,
                "kestrel",
                referral.pk,
                status="contacted",
                status_seen="contacted",
                on=TODAY,
                passed_contact_route=True,
            )
    referral.refresh_from_db(fields=["contact_route_passed", "contact_route_passed_on"])
    assert referral.contact_route_passed
    assert referral.contact_route_passed_on == TODAY - timedelta(days=2)
    assert referral_figures(referral.process)["contact_route_passed"] >= 1


@pytest.mark.parametrize("role", ["support", "survivor", "community", "respondent"])
def test_only_the_contact_group_records_a_referral(role, as_member):
    with as_member(role) as user, pytest.raises(PermissionDenied):
        _referral(user)


def test_a_referral_names_a_directory_programme_or_another_not_both(as_member):
    with as_member("contact") as contact:
        programme = Programme.objects.get(name="Example programme Nord")
        with pytest.raises(ValidationError):
            _referral(contact, programme_id=programme.pk)  # and other_name
        with pytest.raises(ValidationError):
            _referral(contact, other_name="")
        made = _referral(contact, programme_id=programme.pk, other_name="")
    assert made.name == "Example programme Nord" and made.other_name == ""


def test_a_refused_referral_form_is_400_and_changes_nothing(client_for):
    client = client_for("contact")
    before = database_state()
    response = client.post(
        reverse("referral-add", args=["kestrel"]),
        with_token({"researched_by": "group", "status": "refused", "on": TODAY.isoformat()}),
    )
    assert response.status_code == 400
    assert "Choose a programme of the directory, or name one" in response.content.decode()
    assert database_state() == before


# The directory


def test_a_member_of_no_group_may_not_keep_the_directory(people):
    data = services.ProgrammeData(name="Example programme", kind="group")
    for role in ("respondent", "survivor", "community", "admin"):
        with pytest.raises(PermissionDenied):
            services.add_programme(people[role], data)
    assert services.add_programme(people["outsider"], data).name == "Example programme"


def test_an_edit_keeps_what_the_programme_said_before(people):
    programme = Programme.objects.get(name="Example programme Nord")
    changed = services.ProgrammeData(
        name="Example programme Nord",
        kind="online",
        region="Hamburg",
        languages=["German", "English"],
        contact="info@example.org",
        hears_survivor=True,
    )
    services.edit_programme(people["support"], programme.pk, changed, base_revision=1)
    with pytest.raises(services.Conflict):
        services.edit_programme(people["support"], programme.pk, changed, base_revision=1)
    programme.refresh_from_db()
    assert (programme.kind, programme.revision, programme.languages) == (
        "online",
        2,
        ["German", "English"],
    )
    version = ProgrammeVersion.objects.get(programme=programme)
    assert (version.revision, version.kind, version.region) == (1, "group", "")
    assert version.replaced_by == people["support"]


def test_the_directory_filters_by_region_kind_and_language(client_for, people):
    rows = [
        ("Example programme Nord", "Hamburg", "group", ["German"]),
        ("Example programme Süd", "München", "online", ["German", "Türkçe"]),
        ("Example programme West", "Köln", "one_to_one", ["English"]),
    ]
    for name, region, kind, languages in rows:
        data = services.ProgrammeData(name=name, kind=kind, region=region, languages=languages)
        if name.endswith("Nord"):
            programme = Programme.objects.get(name=name)
            services.edit_programme(people["contact"], programme.pk, data, base_revision=1)
        else:
            services.add_programme(people["contact"], data)
    client = client_for("contact")

    def listed(**query) -> set[str]:
        page = client.get(reverse("programmes"), query).content.decode()
        return {name for name, *_ in rows if name in page}

    assert listed() == {name for name, *_ in rows}
    assert listed(kind="online") == {"Example programme Süd"}
    assert listed(language="TÜRKÇE") == {"Example programme Süd"}
    assert listed(language="German") == {"Example programme Nord", "Example programme Süd"}
    assert listed(region="köln") | listed(region="Köln") == {"Example programme West"}


# CSV import

GOOD = HEADER + 'Example programme A,Berlin,group,"German, English",example.org,,yes\n'

# (what is wrong, the file, the row and column it names in English, and in German)
MALFORMED = [
    ("wrong header", "name,area,kind\nA,B,group\n", "Row 1, column “area”", "Zeile 1, Spalte „area“"),
    ("missing header", "name,region\nA,B\n", "Row 1, column “kind”", "Zeile 1, Spalte „kind“"),
    ("unknown kind", HEADER + "A,Berlin,grp,,,,no\n", "Row 2, column “kind”", "Zeile 2, Spalte „kind“"),
    ("bad yes/no", HEADER + "A,Berlin,group,,,,maybe\n", "Row 2, column “hears_survivor”", "Zeile 2, Spalte „hears_survivor“"),
    ("too long", HEADER + "A,Berlin,group,,," + "n" * 2001 + ",no\n", "Row 2, column “notes”", "Zeile 2, Spalte „notes“"),
    ("empty name", HEADER + "B,Berlin,group,,,,no\n ,Berlin,group,,,,no\n", "Row 3, column “name”", "Zeile 3, Spalte „name“"),
    ("duplicate in the file", HEADER + "A,Berlin,group,,,,no\na , berlin,online,,,,no\n", "Row 3, column “name”", "Zeile 3, Spalte „name“"),
    ("duplicate of the directory", HEADER + "B,,group,,,,no\nExample programme Nord,,group,,,,no\n", "Row 3, column “name”", "Zeile 3, Spalte „name“"),
    ("too few values", HEADER + "A,Berlin,group\n", "Row 2, column “languages”", "Zeile 2, Spalte „languages“"),
    ("not UTF-8", (HEADER + "Café,Köln,group,,,,no\n").encode("latin-1"), "Row 2:", "Zeile 2:"),
    ("not CSV at all", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "Row 3: This is not a CSV", "Zeile 3: Das ist keine CSV"),
    ("unterminated quote", HEADER + 'A,"Berlin,group,,,,no\n', "Row 2:", "Zeile 2:"),
    ("empty file", "", "Row 1:", "Zeile 1:"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("wrong", "content", "english", "german"), MALFORMED, ids=[m[0] for m in MALFORMED]
)
def test_a_malformed_file_names_its_row_and_column_and_imports_nothing(
    wrong, content, english, german, people
):
    data = content if isinstance(content, bytes) else content.encode()
    before = database_state()
    for language, says in (("en", english), ("de", german)):
        with translation.override(language):
            with pytest.raises(csvimport.Refused) as refused:
                csvimport.import_file(people["contact"], data)
            said = [str(error) for error in refused.value.errors]
        assert says in said[0], said
    assert database_state() == before


def test_a_file_too_large_is_refused_before_it_is_read(people, monkeypatch):
    monkeypatch.setattr(csvimport, "MAX_BYTES", 1000)
    with pytest.raises(csvimport.Refused) as refused:
        csvimport.import_file(people["contact"], (GOOD * 40).encode())
    assert "at most" in str(refused.value.errors[0])


def test_a_good_row_beside_a_bad_one_is_not_imported(people):
    content = GOOD + "Example programme B,Berlin,weekly,,,,no\n"
    count = Programme.objects.count()
    with pytest.raises(csvimport.Refused):
        csvimport.import_file(people["contact"], content.encode())
    assert Programme.objects.count() == count


def test_10000_rows_import_in_one_go(people):
    rows = [HEADER] + [
        f"Example programme {n},Region {n % 40},{('group', 'online', 'one_to_one')[n % 3]},"
        f'"German, English",contact{n}@example.org,Notes {n},{"yes" if n % 2 else "no"}\n'
        for n in range(10_000)
    ]
    count = Programme.objects.count()
    with CaptureQueriesContext(connection) as seen:
        assert csvimport.import_file(people["contact"], "".join(rows).encode()) == 10_000
    assert Programme.objects.count() == count + 10_000
    assert len(seen) < 500  # in batches, not a query a row
    assert Programme.objects.get(name="Example programme 7").languages == ["German", "English"]


def test_the_import_page_shows_the_first_50_problems_and_counts_the_rest(client_for):
    content = HEADER + "".join(f"P{n},,weekly,,,,no\n" for n in range(60))
    client = client_for("contact")
    client.cookies["django_language"] = "de"
    before = database_state()
    upload = _upload(content.encode())
    response = client.post(reverse("programmes-import"), with_token({"file": upload}))
    page = response.content.decode()
    assert response.status_code == 400
    assert "Zeile 2, Spalte „kind“" in page and "Zeile 51, Spalte „kind“" in page
    assert "Zeile 52, Spalte" not in page
    assert "10 weitere Probleme" in page
    assert database_state() == before


def test_the_import_page_adds_a_good_file(client_for):
    client = client_for("support")
    response = client.post(
        reverse("programmes-import"), with_token({"file": _upload(GOOD.encode())})
    )
    assert response.status_code == 302
    assert Programme.objects.filter(name="Example programme A", hears_survivor=True).exists()


def _upload(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("programmes.csv", data, content_type="text/csv")


# Pages cost the same at 10 and 1,000 rows


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as seen:
        assert client.get(url).status_code == 200
    return len(seen)


def _more_programmes(people, n: int, start: int) -> None:
    services.import_programmes(
        people["contact"],
        [
            services.ProgrammeData(name=f"Example programme {i}", kind="group", languages=["de"])
            for i in range(start, start + n)
        ],
    )


def _more_referrals(people, n: int) -> None:
    """As add_referral would, many at once: each referral with its first change, in the chain."""
    kestrel = Process.objects.get(code="kestrel")
    programme = Programme.objects.first()
    contact = people["contact"]
    made = Referral.objects.bulk_create(
        Referral(
            process=kestrel,
            programme=programme,
            researched_by=("x", "group")[i % 2],
            status="researching",
            status_on=TODAY,
            created_by=contact,
        )
        for i in range(n)
    )
    audit.record_many(contact, kestrel, AuditKind.CREATE, made)
    changes = ReferralChange.objects.bulk_create(
        ReferralChange(
            referral=r, process=kestrel, status_after="researching", on=TODAY, by=contact
        )
        for r in made
    )
    audit.record_many(contact, kestrel, AuditKind.CREATE, changes)


def test_the_directory_and_referral_pages_cost_the_same_at_10_and_1000_rows(people, client_for):
    client = client_for("contact")
    directory, referrals = reverse("programmes"), reverse("referrals", args=["kestrel"])
    client.get(reverse("home"))
    _more_programmes(people, 9, 0)
    _more_referrals(people, 9)
    small = (_queries(client, directory), _queries(client, referrals))
    _more_programmes(people, 990, 100)
    _more_referrals(people, 990)
    large = (_queries(client, directory), _queries(client, referrals))
    assert small == large
    assert _queries(client, directory + "?page=40") == small[0]


def test_an_upload_too_large_is_refused_on_the_page_and_stores_nothing(client_for, monkeypatch):
    monkeypatch.setattr(csvimport, "MAX_BYTES", 2000)
    client = client_for("contact")
    before = database_state()
    upload = _upload((GOOD * 100).encode())
    # As a browser sends the form: its tokens before the file.
    response = client.post(reverse("programmes-import"), {**with_token(), "file": upload})
    assert response.status_code == 400
    assert "it may be at most" in response.content.decode()
    assert database_state() == before
