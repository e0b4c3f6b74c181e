"""The demo's reports: the group's own words in each kind, in the voice of the seed report;
then the contact group's report-back to the community group and the support group's update
for the survivor, each released as it reads from the demo's record today."""

from django.utils import timezone

from uphold.accounts.models import User

from .services import release, save_drafts

REPORT_BACK = (
    "X has not carried out any of the demands. He has informed nobody himself; the people "
    "around him that know, know from us.\n\n"
    "He cut off contact after the last meeting and has not answered since. We keep writing to "
    "him at the agreed rhythm, and we ask you to keep challenging him where you meet him."
)
UPDATE = (
    "We keep the contact with him so that you never have to. Nothing here quotes him. If you "
    "want to hear less, or more, tell your support group."
)
FORMATION = (
    "The contact group was formed at the end of 2015 to be the point of contact for X, taking "
    "this task over from the survivor and their support group, so that the survivor would not "
    "need to be in contact with him."
)
SURROUNDINGS = (
    "The people around him should have challenged him about what he did and why. Instead many "
    "asked for a “neutral” friend who simply supports him. We do not think there can be such a "
    "thing as a neutral friend."
)
LESSONS = (
    "- Write every demand so that it cannot be weakened, with what counts as meeting it.\n"
    "- Keep a written record of every message and meeting, and of every silence.\n"
    "- Inform the people around him early, not only those at the centre.\n"
    "- Spare the survivor the contact work."
)


def draft_words(code: str, contact: User) -> None:
    for kind, texts in (
        ("report-back", {"summary": REPORT_BACK}),
        ("survivor-update", {"words": UPDATE}),
        (
            "retrospective",
            {"formation": FORMATION, "surroundings": SURROUNDINGS, "lessons": LESSONS},
        ),
    ):
        save_drafts(contact, code, kind, texts, {})


def release_report_back(code: str, contact: User) -> None:
    draft_words(code, contact)
    release(contact, code, "report-back", timezone.localdate())


def release_update(code: str, support: User) -> None:
    release(support, code, "survivor-update", timezone.localdate())
