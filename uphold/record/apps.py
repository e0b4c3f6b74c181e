from django.apps import AppConfig
from django.db.models.signals import post_migrate


class RecordConfig(AppConfig):
    name = "uphold.record"
    label = "record"

    def ready(self) -> None:
        from uphold.crypto.rotation import key_replaced

        from .calendar import reattest_feeds

        key_replaced.connect(reattest_feeds, dispatch_uid="record-reattest-feeds")
        post_migrate.connect(fold_unfolded, sender=self, dispatch_uid="record-fold-health")


def fold_unfolded(**_kwargs) -> None:
    """Processes from before contact health was kept as entries are written get their tally
    once, at `uphold migrate`, so no page folds a whole log when it first shows it."""
    from uphold.processes.models import Process

    from .health import refold

    for process_id in Process.objects.filter(health_state__isnull=True).values_list(
        "pk", flat=True
    ):
        refold(process_id)
