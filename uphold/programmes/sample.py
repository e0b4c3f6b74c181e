"""The demo's directory (invented programmes, no real contact data) and the report's referral:
X kept asking the group to pick a programme, the group researched DVIP for him, contacted it
and passed on the survivor's contact route; two years later he refused all programmes."""

from datetime import date

from uphold.accounts.models import User
from uphold.processes.sample import story_day

from . import services
from .models import Programme
from .services import ProgrammeData, ReferralData

DIRECTORY = [
    ProgrammeData("Example programme Nord", "group", "Hamburg", ["German"], "nord.example.org",
                  "Weekly group, 24 sessions.", hears_survivor=True),
    ProgrammeData("Example programme Süd", "one_to_one", "München", ["German", "Turkish"],
                  "sued.example.org", "", hears_survivor=False),
    ProgrammeData("Example online programme", "online", "", ["English", "German"],
                  "online.example.org", "Evening sessions by video.", hears_survivor=True),
    ProgrammeData("DVIP (example entry)", "group", "London", ["English"], "dvip.example.org",
                  "The report's programme; the contact here is invented.", hears_survivor=True),
]  # fmt: skip

REFUSAL = "He considers himself different from the other perpetrators on the programme, and the last four years were hard enough for him."  # noqa: E501


def fill_directory(contact: User) -> None:
    for data in DIRECTORY:
        services.add_programme(contact, data)


def fill_referral(code: str, contact: User) -> None:
    fill_directory(contact)
    dvip = Programme.objects.get(name="DVIP (example entry)")
    referral = services.add_referral(
        contact,
        code,
        ReferralData(
            researched_by="group",
            status="researching",
            on=story_day(date(2017, 9, 15)),
            programme_id=dvip.pk,
            note="He kept asking the group to present him with a programme.",
        ),
    )
    for seen, status, day, kwargs in [
        ("researching", "contacted", date(2017, 10, 20), {}),
        ("contacted", "contacted", date(2017, 11, 15), {"passed_contact_route": True}),
        ("contacted", "refused", date(2019, 11, 15), {"reasons": REFUSAL}),
    ]:
        services.change_referral(
            contact,
            code,
            referral.pk,
            status=status,
            status_seen=seen,
            on=story_day(day),
            **kwargs,
        )
