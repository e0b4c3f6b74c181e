"""Background work for attachments, run by `uphold worker`."""

from django_tasks import task

from . import services


@task()
def remove_stale_uploads() -> int:
    """The worker's clean-up (`--clean-every`): uploads left unfinished for more than a day,
    mail summaries nobody confirmed within a day (their files are such uploads), and the
    one-time tokens of forms sent more than a day ago (web/once.py). Needs no key."""
    from uphold.mailin.services import remove_stale_previews
    from uphold.web import once

    once.remove_old()
    removed = services.remove_stale_uploads()
    remove_stale_previews()
    return removed
