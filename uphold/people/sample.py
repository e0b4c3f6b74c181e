# ruff: noqa: E501  (the story reads best one person per line)
"""The people and circles around X in the report's story, for the demo (aliases, invented).

The group informed his partner and a few people around him and asked them to support the
demands; it talked with his partner and a friend of theirs, and with two close friends who had
been told in Birmingham and wanted to stay "neutral" friends. X informed no one himself: the
new political group he joined after leaving Birmingham was never told, so demand 2 is open.
Dates are the report's, moved with the whole story (processes.sample.story_day).
"""

from datetime import date

from uphold.accounts.models import User
from uphold.processes.sample import story_day

from . import services
from .services import InformingData, PersonData, StanceData

# key: (kind, relation, alias, joined, left, asked to support on, their answer)
PEOPLE = {
    "partner": ("person", "partner", "His partner at the time", None, None, date(2016, 1, 20), "Wants to understand more before taking a side."),
    "their_friend": ("person", "friend", "A friend of his partner", None, None, date(2017, 1, 21), ""),
    "friend_1": ("person", "friend", "Close friend from Birmingham (1)", None, None, date(2016, 1, 20), "Wants to stay friends with him and keep out of it."),
    "friend_2": ("person", "friend", "Close friend from Birmingham (2)", None, None, date(2016, 1, 20), ""),
    "birmingham": ("circle", "political_group", "His political group in Birmingham", date(2012, 9, 1), date(2015, 7, 1), None, ""),
    "new_group": ("circle", "political_group", "His new political group", date(2016, 3, 1), None, None, ""),
    "new_scene": ("circle", "scene", "The left scene of his new city", date(2016, 3, 1), None, None, ""),
}  # fmt: skip

# (key, day, who informed, how far (circles), the day of the log entry that shows it)
INFORMINGS = [
    ("birmingham", date(2015, 6, 1), "other", "part", None),  # the letters handed out there
    ("friend_1", date(2015, 6, 1), "other", "", None),
    ("friend_2", date(2015, 6, 1), "other", "", None),
    ("partner", date(2016, 1, 20), "group", "", date(2016, 1, 20)),
    ("their_friend", date(2017, 1, 21), "group", "", date(2017, 1, 21)),
]
# (key, day, stance, the day of the log entry that shows it)
STANCES = [
    ("partner", date(2017, 1, 21), "neutral", date(2017, 1, 21)),
    ("friend_1", date(2017, 1, 21), "neutral", date(2017, 1, 21)),
    ("friend_2", date(2017, 1, 21), "supports", date(2017, 1, 21)),
    ("friend_1", date(2018, 5, 1), "hostile", None),
]
# Which log entries of the story (by day, record.sample.HISTORY) are about whom.
ENTRIES_ABOUT = {
    date(2016, 1, 20): ["partner", "friend_1", "friend_2"],
    date(2016, 4, 20): ["friend_1", "friend_2"],
    date(2017, 1, 21): ["partner", "their_friend", "friend_1", "friend_2"],
}


def add_people(code: str, contact: User) -> dict[str, int]:
    """The people and circles, before the log that is about them; their ids by key."""
    made = services.add_people(
        contact,
        code,
        [
            PersonData(
                kind=kind,
                relation=relation,
                name=alias,
                joined_on=story_day(joined) if joined else None,
                left_on=story_day(left) if left else None,
                asked_on=story_day(asked) if asked else None,
                answer=answer,
            )
            for kind, relation, alias, joined, left, asked, answer in PEOPLE.values()
        ],
    )
    return {key: person.pk for key, person in zip(PEOPLE, made, strict=True)}


def add_history(code: str, contact: User, ids: dict[str, int], entry_on: dict[date, int]) -> None:
    """Who informed them and where they stood, each linked to the entry that showed it;
    `entry_on` gives the log entry of each day of the story (by its original day)."""
    for key, day, by, reach, shown in INFORMINGS:
        services.add_informing(
            contact, code, ids[key],
            InformingData(on=story_day(day), by=by, reach=reach, entry_id=entry_on.get(shown)),
        )  # fmt: skip
    for key, day, stance, shown in STANCES:
        services.change_stance(
            contact, code, ids[key],
            StanceData(on=story_day(day), stance=stance, entry_id=entry_on.get(shown)),
        )  # fmt: skip
    services.set_informing_demand(contact, code, 2)
