from django.apps import AppConfig


class RecordConfig(AppConfig):
    name = "uphold.record"
    label = "record"

    def ready(self) -> None:
        from uphold.crypto.rotation import key_replaced

        from .calendar import reattest_feeds

        key_replaced.connect(reattest_feeds, dispatch_uid="record-reattest-feeds")
