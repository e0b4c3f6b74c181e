"""The stored contact-health tally now also keeps the long silences (for the timeline): fold
every process's log again, so that `uphold verify` finds each stored tally current."""

from django.db import migrations


def refold_all(apps, schema_editor):
    # The fold reads only clear columns that exist since 0006; it is Uphold's own code, so the
    # tally is written exactly as the running version writes it.
    from uphold.record.health import fold

    HealthState = apps.get_model("record", "HealthState")
    for state in HealthState.objects.all():
        state.tally = fold(state.process_id).as_json()
        state.save(update_fields=["tally"])


class Migration(migrations.Migration):
    dependencies = [("record", "0007_entries_about_people")]

    operations = [migrations.RunPython(refold_all, migrations.RunPython.noop)]
