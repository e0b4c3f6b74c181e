"""Background work for attachments, run by `uphold worker`."""

from django_tasks import task

from . import services


@task()
def remove_stale_uploads() -> int:
    """Removes uploads left unfinished for more than a day. Needs no key."""
    return services.remove_stale_uploads()
