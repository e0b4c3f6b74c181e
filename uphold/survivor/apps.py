from django.apps import AppConfig


class SurvivorConfig(AppConfig):
    name = "uphold.survivor"
    label = "survivor"
