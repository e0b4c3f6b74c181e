from django.apps import AppConfig


class ProcessesConfig(AppConfig):
    name = "uphold.processes"
    label = "processes"
