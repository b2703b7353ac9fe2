# The registrar import (issue 13): patrons who left, laboratory codes, the import job.
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("patrons", "0005_field_bounds"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="PatronImport",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("file_name", models.CharField(blank=True, max_length=255, verbose_name="file")),
                ("file_size", models.PositiveBigIntegerField(default=0, verbose_name="size (bytes)")),
                ("data", models.BinaryField(default=bytes)),
                (
                    "complete",
                    models.BooleanField(
                        default=False,
                        help_text="Patrons of the file's categories missing from it leave.",
                        verbose_name="complete list",
                    ),
                ),
                (
                    "mode",
                    models.CharField(
                        choices=[("preview", "Preview"), ("apply", "Apply")],
                        default="preview",
                        max_length=10,
                        verbose_name="mode",
                    ),
                ),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("queued", "Queued"),
                            ("running", "Running"),
                            ("ready", "Checked: waiting for confirmation"),
                            ("done", "Applied"),
                            ("failed", "Failed"),
                            ("discarded", "Discarded"),
                        ],
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
                            ("applying", "Applying to the patrons"),
                            ("finished", "Finished"),
                        ],
                        default="",
                        max_length=10,
                        verbose_name="step",
                    ),
                ),
                ("lines_total", models.PositiveIntegerField(default=0, verbose_name="lines (estimated)")),
                ("lines_read", models.PositiveIntegerField(default=0, verbose_name="lines read")),
                ("new_count", models.PositiveIntegerField(default=0, verbose_name="new")),
                ("changed_count", models.PositiveIntegerField(default=0, verbose_name="changed")),
                ("unchanged_count", models.PositiveIntegerField(default=0, verbose_name="unchanged")),
                ("leaving_count", models.PositiveIntegerField(default=0, verbose_name="leaving")),
                ("returning_count", models.PositiveIntegerField(default=0, verbose_name="returning")),
                ("error_count", models.PositiveIntegerField(default=0, verbose_name="problems")),
                ("errors", models.JSONField(blank=True, default=list, verbose_name="first problems")),
                ("samples", models.JSONField(blank=True, default=dict, verbose_name="examples")),
                ("message", models.TextField(blank=True, verbose_name="outcome")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="uploaded")),
                ("started_at", models.DateTimeField(blank=True, null=True, verbose_name="started")),
                ("heartbeat_at", models.DateTimeField(blank=True, null=True, verbose_name="last sign of life")),
                ("finished_at", models.DateTimeField(blank=True, null=True, verbose_name="finished")),
            ],
            options={
                "verbose_name": "patron import",
                "verbose_name_plural": "patron imports",
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.AddField(
            model_name="laboratory",
            name="code",
            field=models.CharField(
                blank=True,
                help_text="The registrar's code for the laboratory (how the patron import names it); optional.",
                max_length=30,
                verbose_name="code",
            ),
        ),
        migrations.AddField(
            model_name="patron",
            name="active",
            field=models.BooleanField(
                default=True,
                help_text="Off: left the university (registrar import); no new requests, the history stays.",
                verbose_name="registered",
            ),
        ),
        migrations.AddField(
            model_name="patron",
            name="left_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="left"),
        ),
        migrations.AddConstraint(
            model_name="laboratory",
            constraint=models.UniqueConstraint(
                condition=models.Q(("code", ""), _negated=True), fields=("code",), name="laboratory_code_unique"
            ),
        ),
        migrations.AddField(
            model_name="patronimport",
            name="applied_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="patronimport",
            name="started_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
