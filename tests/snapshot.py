"""Rows written once, put back many times: the shared fixture's rows, copied at the database
level (no field converts them, so sealed values and timestamps come back byte for byte)."""

from django.apps import apps
from django.core.management.color import no_style
from django.db import connection, models, transaction

# Begins each statement that puts the rows back, so a count of a test's writes can leave it out.
RESTORING = "/* snapshot */ "


def _models() -> list[type[models.Model]]:
    return [
        m
        for m in apps.get_models(include_auto_created=True)
        if m._meta.managed and not m._meta.proxy
    ]


class Snapshot:
    """`before()` notes which rows exist, `take()` keeps every row written since, as the values
    the database holds, and `restore()` inserts those rows again, with their ids, in one
    transaction."""

    def __init__(self, existing: dict[type[models.Model], set]) -> None:
        self.existing = existing
        self.tables: list[tuple[type[models.Model], str, list[tuple]]] = []

    @classmethod
    def before(cls) -> "Snapshot":
        return cls({m: set(m._base_manager.values_list("pk", flat=True)) for m in _models()})

    def take(self) -> None:
        quote = connection.ops.quote_name
        for model, existing in self.existing.items():
            fields = model._meta.local_concrete_fields
            # The instance's own dictionary: a sealed field's descriptor would open it.
            rows = [
                tuple(f.get_db_prep_save(row.__dict__[f.attname], connection) for f in fields)
                for row in model._base_manager.order_by("pk")
                if row.pk not in existing
            ]
            if rows:
                columns = ", ".join(quote(f.column) for f in fields)
                marks = ", ".join(["%s"] * len(fields))
                sql = (
                    RESTORING
                    + f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({marks})"
                )
                self.tables.append((model, sql, rows))

    def restore(self) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            # Foreign keys are deferred to the transaction's end, so the order does not matter.
            for _model, sql, rows in self.tables:
                cursor.executemany(sql, rows)
            for sql in connection.ops.sequence_reset_sql(no_style(), [t[0] for t in self.tables]):
                cursor.execute(sql)
