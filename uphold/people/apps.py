from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "uphold.people"
    label = "people"
