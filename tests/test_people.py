"""The people and circles around X: informing (X's duty, not the group's), stance history, and
the log entries about them."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from uphold.audit import services as audit
from uphold.audit.models import Kind
from uphold.people import services
from uphold.people.models import Informing, Person, StanceChange
from uphold.people.queries import Standing, informing_view
from uphold.people.services import InformingData, PersonData, StanceData
from uphold.processes.models import Process
from uphold.record import services as record
from uphold.record.services import EntryData

from .conftest import database_state, with_token

DAY = date(2018, 3, 1)


def _add(contact, relation: str, name: str, kind: str = "circle", **more) -> Person:
    return services.add_person(
        contact, "kestrel", PersonData(kind=kind, relation=relation, name=name, **more)
    )


def _inform(contact, person: Person, by: str, reach: str = "", on: date = DAY) -> None:
    services.add_informing(contact, "kestrel", person.pk, InformingData(on=on, by=by, reach=reach))


def _standing(name: str) -> str:
    view = informing_view(Process.objects.get(code="kestrel"))
    return next(
        code for code, rows in view.groups.items() for row in rows if row["person"].name == name
    )


def test_a_circle_informed_by_the_group_and_not_by_x_keeps_the_demand_open(as_member):
    with as_member("contact") as contact:
        group = _add(contact, "political_group", "Antifa Nord")
        _inform(contact, group, "group", "everyone")
        view = informing_view(Process.objects.get(code="kestrel"))
        assert _standing("Antifa Nord") == Standing.OTHERS_ONLY
        assert not view.met
        row = next(r for r in view.groups[Standing.OTHERS_ONLY] if r["person"].pk == group.pk)
        assert "not by X" in row["informed"].why and "duty" in row["informed"].why
        assert any("not by X" in reason for reason in view.open_because)


def test_x_informing_only_the_leaders_is_not_enough(as_member):
    with as_member("contact") as contact:
        group = _add(contact, "political_group", "Hausprojekt")
        _inform(contact, group, "respondent", "leaders")
        assert _standing("Hausprojekt") == Standing.PARTLY
        _inform(contact, group, "group", "everyone", on=DAY + timedelta(days=3))
        assert _standing("Hausprojekt") == Standing.PARTLY  # the group's part is not his
        _inform(contact, group, "respondent", "everyone", on=DAY + timedelta(days=9))
        assert _standing("Hausprojekt") == Standing.MET


def test_the_demand_is_met_only_when_x_informed_every_circle_and_partner(as_member):
    kestrel = Process.objects.get(code="kestrel")
    with as_member("contact") as contact:
        for person in Person.objects.filter(process=kestrel):  # the fixture's circle
            _inform(contact, person, "respondent", "everyone")
        partner = _add(contact, "partner", "A.", kind="person")
        friend = _add(contact, "friend", "B.", kind="person")
        assert not informing_view(kestrel).met
        _inform(contact, partner, "respondent")
        view = informing_view(kestrel)
        assert view.met and view.open_because == []
        # A friend is around him, but the demand names circles and partners.
        assert friend.pk not in {r["person"].pk for rows in view.groups.values() for r in rows}


def test_stance_history_is_kept_in_order_and_the_latest_by_date_counts(as_member):
    with as_member("contact") as contact:
        friend = _add(contact, "friend", "C.", kind="person")
        for on, stance in ((DAY, "supports"), (DAY + timedelta(days=60), "neutral")):
            services.change_stance(contact, "kestrel", friend.pk, StanceData(on=on, stance=stance))
        # Entered late, dated before both: history, not the current stance.
        services.change_stance(
            contact, "kestrel", friend.pk, StanceData(on=DAY - timedelta(days=5), stance="hostile")
        )
    assert Person.objects.get(pk=friend.pk).stance == "neutral"
    assert list(friend.stances.values_list("stance", flat=True)) == [
        "hostile",
        "supports",
        "neutral",
    ]


@pytest.mark.parametrize("language", ["en", "de"])
def test_bad_input_is_refused_by_field_and_changes_nothing(as_member, language):
    before = database_state()
    with as_member("contact") as contact, translation.override(language):
        with pytest.raises(ValidationError) as refused:
            services.add_person(
                contact,
                "kestrel",
                PersonData(
                    kind="circle",
                    relation="partner",  # a person's relation for a circle
                    name=" ",
                    joined_on=date(2019, 1, 1),
                    left_on=date(2018, 1, 1),
                    answer="They said no",  # but no day they were asked
                ),
            )
        errors = refused.value.message_dict
        assert set(errors) == {"relation", "name", "left_on", "asked_on"}
        circle = Person.objects.filter(process__code="kestrel").first()
        with pytest.raises(ValidationError) as refused:
            services.add_informing(
                contact,
                "kestrel",
                circle.pk,
                InformingData(on=date.today() + timedelta(days=3), by="nobody", reach=""),
            )
        assert set(refused.value.message_dict) == {"on", "by", "reach"}
        if language == "de":
            assert "Wähle" in " ".join(refused.value.message_dict["by"])
    assert database_state() == before


def test_an_entry_links_people_of_its_own_process_only(as_member):
    # Another process's person (heron has only a support member, who does not write people).
    with as_member("outsider") as outsider:
        heron = Process.objects.get(code="heron")
        heron_person = Person.objects.create(process=heron, kind="person", relation="friend")
        heron_person.name = "H."
        heron_person.save()
        audit.record(outsider, heron, Kind.CREATE, heron_person)
    with as_member("contact") as contact:
        with pytest.raises(ValidationError) as refused:
            record.add_entry(
                contact,
                "kestrel",
                EntryData(
                    occurred_on=DAY, kind="note", summary="about H.", around=[heron_person.pk]
                ),
            )
        assert "around" in refused.value.message_dict


def test_a_persons_page_lists_every_entry_about_them(as_member, client_for):
    with as_member("contact") as contact:
        partner = _add(contact, "partner", "P.", kind="person")
        for i in range(30):
            record.add_entry(
                contact,
                "kestrel",
                EntryData(
                    occurred_on=DAY + timedelta(days=i),
                    kind="conversation",
                    direction="to_circle",
                    summary=f"talk {i:02}",
                    around=[partner.pk],
                ),
            )
        record.add_entry(contact, "kestrel", EntryData(occurred_on=DAY, kind="note", summary="x"))
    client = client_for("support")
    url = reverse("person", args=["kestrel", partner.pk])
    first, second = client.get(url), client.get(url + "?page=2")
    shown = first.content.decode() + second.content.decode()
    assert all(f"talk {i:02}" in shown for i in range(30))
    assert "talk 29" in first.content.decode()  # newest first
    assert ">x<" not in shown


def test_the_quick_form_links_a_person_and_the_entry_shows_it(client_for, as_member):
    with as_member("contact") as contact:
        partner = _add(contact, "partner", "Partner Q", kind="person")
    client = client_for("contact")
    response = client.post(
        reverse("entry-add", args=["kestrel"]),
        with_token(
            {
                "occurred_on": DAY.isoformat(),
                "kind": "conversation",
                "direction": "to_circle",
                "summary": "Talked with his partner",
                "around": [str(partner.pk)],
            }
        ),
    )
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "Partner Q" in page and reverse("person", args=["kestrel", partner.pk]) in page


def test_the_people_list_and_a_persons_page_cost_the_same_queries_at_10_and_1000_people(
    as_member, client_for
):
    kestrel = Process.objects.get(code="kestrel")
    client = client_for("contact")
    costs = []
    with as_member("contact") as contact:
        for total in (10, 1000):
            more = total - Person.objects.filter(process=kestrel).count()
            services.add_people(
                contact,
                "kestrel",
                [PersonData(kind="person", relation=("friend", "partner")[i % 2], name=f"F{i}")
                 for i in range(more)],
            )  # fmt: skip
            one = Person.objects.filter(process=kestrel).order_by("pk").last()
            for person in Person.objects.filter(process=kestrel).order_by("-pk")[:30]:
                _inform(contact, person, "group", "everyone")
                services.change_stance(
                    contact, "kestrel", person.pk, StanceData(on=DAY, stance="neutral")
                )
            seen = []
            for url in (
                reverse("people", args=["kestrel"]),
                reverse("people", args=["kestrel"]) + "?kind=person",
                reverse("person", args=["kestrel", one.pk]),
                reverse("informing", args=["kestrel"]),
                reverse("entry-add", args=["kestrel"]),
            ):
                with CaptureQueriesContext(connection) as queries:
                    assert client.get(url).status_code == 200, url
                seen.append(len(queries))
            costs.append(seen)
    assert costs[0] == costs[1]
    assert Person.objects.filter(process=kestrel).count() == 1000
    assert Informing.objects.filter(process=kestrel).count() >= 40
    assert StanceChange.objects.filter(process=kestrel).count() >= 40
