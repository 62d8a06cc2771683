from django.db import migrations, models


def next_sync_is_full(apps, schema_editor):
    """Rows indexed before this column existed have no URL (so no play button on a
    filtered list): the next sync of every credential reads everything again."""
    apps.get_model("recordings_app", "IndexSync").objects.update(complete_through=None)


class Migration(migrations.Migration):
    dependencies = [
        ("recordings_app", "0004_audit_event"),
    ]

    operations = [
        migrations.AddField(
            model_name="indexedrecording",
            name="url",
            field=models.TextField(blank=True),
        ),
        migrations.RunPython(next_sync_is_full, migrations.RunPython.noop),
    ]
