# The holdings import as a job (issue 12): the upload, its progress and report, and the staging table
# its records are checked into before one transaction swaps them into the holdings.
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def staging_unlogged(apps, schema_editor):
    """On PostgreSQL the staging table skips the write-ahead log: nothing in it must survive a crash."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE ill_holdingsimportrow SET UNLOGGED")


def staging_logged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE ill_holdingsimportrow SET LOGGED")


class Migration(migrations.Migration):
    dependencies = [("ill", "0013_request_support_budget")]

    operations = [
        migrations.CreateModel(
            name="HoldingsImport",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("fmt", models.CharField(choices=[("csv", "CSV"), ("marc", "MARC")], max_length=4, verbose_name="format")),
                ("file_name", models.CharField(blank=True, max_length=255, verbose_name="file")),
                ("file_size", models.PositiveBigIntegerField(default=0, verbose_name="size (bytes)")),
                ("data", models.BinaryField(default=bytes)),
                (
                    "state",
                    models.CharField(
                        choices=[("queued", "Queued"), ("running", "Running"), ("done", "Done"), ("failed", "Failed")],
                        default="queued",
                        max_length=10,
                        verbose_name="state",
                    ),
                ),
                (
                    "step",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("", "Waiting for a worker"),
                            ("reading", "Reading and checking the file"),
                            ("applying", "Applying to the holdings"),
                            ("finished", "Finished"),
                        ],
                        default="",
                        max_length=10,
                        verbose_name="step",
                    ),
                ),
                ("lines_total", models.PositiveIntegerField(default=0, verbose_name="lines or records (estimated)")),
                ("lines_read", models.PositiveIntegerField(default=0, verbose_name="lines or records read")),
                ("created_count", models.PositiveIntegerField(default=0, verbose_name="created")),
                ("updated_count", models.PositiveIntegerField(default=0, verbose_name="updated")),
                ("error_count", models.PositiveIntegerField(default=0, verbose_name="problems")),
                ("errors", models.JSONField(blank=True, default=list, verbose_name="first problems")),
                ("message", models.TextField(blank=True, verbose_name="outcome")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="uploaded")),
                ("started_at", models.DateTimeField(blank=True, null=True, verbose_name="started")),
                ("heartbeat_at", models.DateTimeField(blank=True, null=True, verbose_name="last sign of life")),
                ("finished_at", models.DateTimeField(blank=True, null=True, verbose_name="finished")),
                (
                    "started_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "holdings import",
                "verbose_name_plural": "holdings imports",
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="HoldingsImportRow",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("line", models.PositiveIntegerField()),
                ("source_id", models.CharField(max_length=64)),
                ("title", models.CharField(max_length=500)),
                ("author", models.CharField(blank=True, max_length=300)),
                ("call_number", models.CharField(blank=True, max_length=100)),
                ("status", models.CharField(max_length=20)),
                ("is_electronic", models.BooleanField(default=False)),
                ("location", models.CharField(blank=True, max_length=100)),
                ("identifiers", models.TextField(blank=True)),
                (
                    "branch",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="patrons.branch",
                    ),
                ),
                (
                    "job",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="rows", to="ill.holdingsimport"
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["job", "source_id"], name="holdings_row_source")],
            },
        ),
        migrations.RunPython(staging_unlogged, staging_logged, elidable=True),
    ]
