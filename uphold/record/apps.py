from django.apps import AppConfig


class RecordConfig(AppConfig):
    name = "uphold.record"
    label = "record"
