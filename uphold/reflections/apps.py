from django.apps import AppConfig


class ReflectionsConfig(AppConfig):
    name = "uphold.reflections"
    label = "reflections"
