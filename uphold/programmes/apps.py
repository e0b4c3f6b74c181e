from django.apps import AppConfig


class ProgrammesConfig(AppConfig):
    name = "uphold.programmes"
    label = "programmes"
