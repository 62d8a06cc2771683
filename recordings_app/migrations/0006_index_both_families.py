from django.db import migrations, models

# signalwire.STATUS_FAMILY_WORDS as it stood when this migration was written: a
# migration must not change with the code it migrates from.
FAMILY_WORDS = {
    "in_progress": ("queued", "in-progress", "recording", "paused", "resumed"),
    "done": ("completed", "finished", "stopped"),
    "no_audio": ("absent", "no_input"),
    "failed": ("failed", "error"),
}


def status_families(apps, schema_editor):
    """Rows indexed so far are RELAY recordings (the column's default); their status
    family is derived from their status word and error code, as the sync derives it."""
    rows = apps.get_model("recordings_app", "IndexedRecording").objects
    for family, words in FAMILY_WORDS.items():
        rows.filter(status__in=words).update(status_family=family)
    # Any status with an error code counts as failed.
    rows.exclude(error_code="").update(status_family="failed")


class Migration(migrations.Migration):
    dependencies = [
        ("recordings_app", "0005_index_media_url"),
    ]

    operations = [
        migrations.AddField(
            model_name="indexedrecording",
            name="family",
            field=models.CharField(default="relay", max_length=8),
        ),
        migrations.AddField(
            model_name="indexedrecording",
            name="cxml_source",
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.AddField(
            model_name="indexedrecording",
            name="call_sid",
            field=models.CharField(blank=True, max_length=36),
        ),
        migrations.AddField(
            model_name="indexedrecording",
            name="status_family",
            field=models.CharField(default="other", max_length=16),
        ),
        migrations.RunPython(status_families, migrations.RunPython.noop),
        migrations.RemoveIndex(
            model_name="indexedrecording",
            name="index_for_reports",
        ),
        migrations.AddIndex(
            model_name="indexedrecording",
            index=models.Index(
                fields=[
                    "credential",
                    "created_at",
                    "vanished_at",
                    "created_epoch",
                    "price_unit",
                    "price",
                    "duration_seconds",
                    "status_family",
                    "track",
                    "source",
                    "stereo",
                ],
                name="index_for_reports",
            ),
        ),
        # What was the one horizon is RELAY's: every row indexed so far came from there.
        migrations.RenameField(
            model_name="indexsync",
            old_name="complete_through",
            new_name="relay_complete_through",
        ),
        migrations.AddField(
            model_name="indexsync",
            name="compat_complete_through",
            field=models.DateTimeField(null=True),
        ),
        migrations.AddField(
            model_name="indexsync",
            name="family",
            field=models.CharField(default="relay", max_length=8),
        ),
        migrations.AddField(
            model_name="indexsync",
            name="page_oldest",
            field=models.DateTimeField(null=True),
        ),
        migrations.AddField(
            model_name="indexsync",
            name="relay_newest_first",
            field=models.BooleanField(default=True),
        ),
        migrations.AddField(
            model_name="indexsync",
            name="last_full_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.AddField(
            model_name="indexsync",
            name="unavailable",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
