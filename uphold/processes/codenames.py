"""Code names the server chooses: two words and a number, `quiet-heron-42`.

Starting a process never takes a typed name, so its answer cannot confirm that a name is used
by a process the person is not in; and a chosen name cannot point to the people involved. The
proposal travels signed in the form, for that user only: a name of one's own is refused.
"""

import secrets

from django.core import signing

from .models import Process

# Gentle, common words only: a code name must never sound like what a process is about.
_ADJECTIVES = """
amber autumn blue brave bright calm clear cool coral early gentle golden green grey hidden high
kind late light little lucky mellow misty mossy patient plain quiet rainy silver slow small
snowy soft spring steady still stony summer sunny swift tall tidy warm wide wild windy winter
young
"""
_BIRDS = """
avocet bittern bunting buzzard chaffinch coot crane curlew dipper dunlin dunnock egret eider
finch fulmar gannet godwit goldcrest grebe harrier heron hobby jay kestrel kite knot lapwing
linnet magpie martin merlin nuthatch osprey owl pipit plover puffin redstart robin rook
sanderling siskin skylark sparrow starling stonechat swallow swift teal tern thrush wagtail
warbler waxwing wigeon wren
"""
ADJECTIVES, BIRDS = _ADJECTIVES.split(), _BIRDS.split()
SALT = "uphold.process-code"
MAX_AGE = 24 * 60 * 60  # a day to fill in the rest of the form


def propose() -> str:
    """A name no process has yet (checking leaks nothing: the person did not choose it).

    About 240,000 names: a hundred draws all taken would need a server full of processes.
    """
    for _attempt in range(100):
        words = f"{secrets.choice(ADJECTIVES)}-{secrets.choice(BIRDS)}"
        code = f"{words}-{10 + secrets.randbelow(90)}"
        if not Process.objects.filter(code=code).exists():
            return code
    raise RuntimeError("no free code name found")


def sign(user, code: str) -> str:
    return signing.dumps(code, salt=f"{SALT}:{user.pk}")


def read(user, signed: str) -> str | None:
    """The code name proposed to this user, or None for anything else or anything too old."""
    try:
        return signing.loads(signed, salt=f"{SALT}:{user.pk}", max_age=MAX_AGE)
    except signing.BadSignature:
        return None
