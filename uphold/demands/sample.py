"""The report's letter and three demands, for the demo process, written through the services."""

from datetime import date

from uphold.accounts.models import User
from uphold.processes.sample import story_day

from . import services

LETTER = """To everyone in our political groups in Birmingham and beyond,

we write this letter with and for the person X raped. We ask you to read it, and to act from
the perspective of the person harmed. X is asked to meet the demands below; the contact group
will stay in touch with him, so that the person harmed never has to."""

HANDED_TO = "Given to X by the support group; handed out at the group meeting in Birmingham."

DEMANDS = [
    (
        "Seek critical help to recall and understand what he has done in order to change.",
        "Taking responsibility must involve him recalling and understanding his acts of "
        "violence. We provided contact information for perpetrator work.",
        "He enrols in a perpetrator programme the contact group agrees is suitable\n"
        "The programme has a way to hear the survivor's side\n"
        "He attends until the programme says he has completed it",
    ),
    (
        "Inform any new political environment and sexual partners about his abusive behaviour.",
        "The people around him should be able to decide for themselves in what ways they trust "
        "him. It was his powerful position in political groups that let him get away with it.",
        "Every political group he joins is told before he takes part\n"
        "Members outside a group's leadership are told, not only its leaders\n"
        "Every new sexual partner is told before they become involved",
    ),
    (
        "Stay accountable to us and a contact group.",
        "He must not run away from his responsibilities by changing political group, city or "
        "friends.",
        "He answers the contact group's messages within three weeks\n"
        "He comes to a meeting with the contact group every three months",
    ),
]


# Saved after the letter was handed over: the letter as sent stays marked on version 1.
POSTSCRIPT = """

Postscript for groups X has joined since: these demands still stand. Ask the contact group
if you want to know more."""


def fill_as_support(code: str, support: User) -> None:
    services.save_letter(support, code, LETTER, base_revision=0)
    services.mark_sent(
        support, code, revision=1, handed_over_on=story_day(date(2015, 6, 1)), handed_to=HANDED_TO
    )
    services.save_letter(support, code, LETTER + POSTSCRIPT, base_revision=1)
    for wording, reasons, criteria in DEMANDS:
        services.add_demand(support, code, wording, reasons, criteria)


def fill_as_contact(code: str, contact: User) -> None:
    """What X said, as in the report's timeline, and demand 1 refused by him."""
    services.record_answer(
        contact, code, 1, kind="renegotiate", said_on=story_day(date(2017, 9, 15)),
        note="Asked us again to present him with a programme instead of researching one.",
    )  # fmt: skip
    services.record_answer(
        contact, code, 1, kind="refuses", said_on=story_day(date(2019, 11, 15)),
        note="Says perpetrator programmes are unsuitable for him.",
    )  # fmt: skip
    services.record_progress(
        contact, code, 1, note="Refused in his email about programmes.", status="refused",
        status_seen="open",
    )  # fmt: skip
