"""The one table of the shell: which creating forms were sent already (see web/once.py)."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Submission(models.Model):
    """A creating form that was saved: its one-time token and the path of what it made.

    No content: who sent it, the random token the form carried, a URL path and a time. Rows
    older than a day are removed by the worker's clean-up.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=64)
    location = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "token"], name="submission_once_per_user")
        ]

    def __str__(self) -> str:
        return self.location
