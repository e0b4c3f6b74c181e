from django.db import migrations, models


def agreed_when_written(apps, schema_editor):
    """A step agreed at a meeting was agreed on its day; any other on the day it was written."""
    Step = apps.get_model("record", "Step")
    for step in Step.objects.select_related("meeting").filter(agreed_on__isnull=True):
        moment = step.meeting.planned_at if step.meeting_id else step.created_at
        Step.objects.filter(pk=step.pk).update(agreed_on=moment.date())


class Migration(migrations.Migration):
    dependencies = [
        ("record", "0004_keys_follow_roles"),
    ]

    operations = [
        migrations.AddField(
            model_name="step",
            name="agreed_on",
            field=models.DateField(blank=True, null=True, verbose_name="agreed on"),
        ),
        migrations.RunPython(agreed_when_written, migrations.RunPython.noop),
    ]
