"""A reflection of X's for the demo, in the manner the report describes: he centres himself
and his hardship, names no act and no gain, and takes no responsibility (invented text, no
real names). The contact group's review reads it as the report does, and is released to the
survivor's side without his quoted words."""

from datetime import date

from uphold.accounts.models import User
from uphold.processes.sample import story_day

from . import services
from .services import Answer

WRITTEN_ON = date(2019, 11, 15)  # with his refusal of the programmes
TEXT = """\
I have thought a lot about the last four years. They have been the hardest of my life. I lost \
friends, I had to leave my group, and people look at me differently wherever I go.

I know that things happened between us that she experienced as hurtful, and I am sorry that \
she feels that way. I was in a very difficult place back then and I did not always know what \
I was doing.

I do not think a perpetrator programme is right for me. I am not like the men who go there, \
and I have already been through enough. I hope everyone can see how much I have tried.
"""

REVIEW = {
    "responsibility": Answer(
        0,
        "things happened between us that she experienced as hurtful",
        "He speaks of things that 'happened', not of what he did, and makes her feelings the "
        "problem.",
    ),
    "recall": Answer(0, "", "No act is named at all."),
    "gain": Answer(0, "", "Nothing about what he got from it."),
    "empathy": Answer(
        0,
        "I am sorry that she feels that way",
        "An apology for her feelings, not for his acts.",
    ),
    "centring": Answer(
        2,
        "They have been the hardest of my life.\nI have already been through enough.",
        "Most of the text is about his own hardship; the process is what hurt him.",
    ),
}


def fill_reflections(code: str, contact: User) -> None:
    reflection = services.add_reflection(
        contact, code, written_on=story_day(WRITTEN_ON), source="pasted", text=TEXT
    )
    review = services.add_review(contact, code, reflection.pk, REVIEW)
    services.release(contact, code, review.pk, with_quotes=False)
