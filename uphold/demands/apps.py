from django.apps import AppConfig


class DemandsConfig(AppConfig):
    name = "uphold.demands"
    label = "demands"
