"""System checks that keep every sensitive text behind the one encrypted field type."""

from django.apps import apps
from django.core import checks

from uphold.processes import scopes

from .fields import EncryptedTextField


@checks.register()
def encrypted_fields_name_a_known_scope(app_configs=None, **kwargs) -> list[checks.Error]:
    errors = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            named = isinstance(field, EncryptedTextField) and isinstance(field.scope, str)
            if named and field.scope not in scopes.READERS:
                errors.append(
                    checks.Error(f"unknown scope {field.scope!r}", obj=field, id="uphold.E001")
                )
    return errors
