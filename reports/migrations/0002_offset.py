import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
        ("ill", "0018_nacsis"),
        ("fees", "0013_field_bounds"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="OffsetStatement",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "month",
                    models.DateField(
                        help_text="The first day of the month the statement covers.", verbose_name="month"
                    ),
                ),
                ("file_name", models.CharField(blank=True, max_length=255, verbose_name="file")),
                ("file_size", models.PositiveIntegerField(default=0, verbose_name="size (bytes)")),
                ("file_sha256", models.CharField(max_length=64, unique=True, verbose_name="SHA-256 of the file")),
                ("encoding", models.CharField(blank=True, max_length=10, verbose_name="encoding")),
                ("participant_id", models.CharField(max_length=8, verbose_name="our participant ID")),
                ("line_count", models.PositiveIntegerField(default=0, verbose_name="lines")),
                ("counts", models.JSONField(blank=True, default=dict, verbose_name="lines by outcome")),
                ("imported_at", models.DateTimeField(auto_now_add=True, verbose_name="imported")),
                (
                    "imported_by",
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
                "verbose_name": "fee-offset statement",
                "verbose_name_plural": "fee-offset statements",
                "ordering": ["-month", "-id"],
            },
        ),
        migrations.CreateModel(
            name="OffsetLine",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("line", models.PositiveIntegerField(blank=True, null=True, verbose_name="line")),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("duplicate", "Twice in the statements"),
                            ("lender", "Lender differs"),
                            ("amount", "Amount differs"),
                            ("details", "Postage or payment class differs"),
                            ("only_statement", "Only in the statement"),
                            ("only_here", "Only here"),
                            ("matched", "Matched"),
                            ("lending", "Lending (we are the lender)"),
                        ],
                        max_length=16,
                        verbose_name="outcome",
                    ),
                ),
                ("rank", models.PositiveSmallIntegerField(default=0)),
                ("ill_id", models.CharField(blank=True, max_length=12, verbose_name="ID")),
                ("renewed_on", models.DateField(blank=True, null=True, verbose_name="RNWDT")),
                ("accepted_on", models.DateField(blank=True, null=True, verbose_name="ADATE")),
                ("state", models.CharField(blank=True, max_length=20, verbose_name="STAT")),
                ("omlid", models.CharField(blank=True, max_length=8, verbose_name="OMLID")),
                ("omlid_member", models.CharField(blank=True, max_length=10, verbose_name="requester's offset number")),
                ("ono", models.CharField(blank=True, max_length=10, verbose_name="ONO")),
                ("amlid", models.CharField(blank=True, max_length=8, verbose_name="AMLID")),
                ("amlid_member", models.CharField(blank=True, max_length=10, verbose_name="lender's offset number")),
                ("ano", models.CharField(blank=True, max_length=10, verbose_name="ANO")),
                ("service", models.CharField(blank=True, max_length=1, verbose_name="SRVCE")),
                ("bibliography", models.TextField(blank=True, verbose_name="BIBNT")),
                ("acct", models.CharField(blank=True, max_length=2, verbose_name="ACCT")),
                ("total", models.PositiveIntegerField(blank=True, null=True, verbose_name="SUM")),
                ("postage", models.PositiveIntegerField(blank=True, null=True, verbose_name="POSTG")),
                ("budget_item", models.TextField(blank=True, verbose_name="OLDAF")),
                ("isogid", models.CharField(blank=True, max_length=25, verbose_name="ISOGID")),
                ("our_total", models.PositiveIntegerField(blank=True, null=True, verbose_name="our total")),
                ("our_postage", models.PositiveIntegerField(blank=True, null=True, verbose_name="our postage")),
                ("our_amlid", models.CharField(blank=True, max_length=8, verbose_name="our lender's participant ID")),
                ("our_acct", models.CharField(blank=True, max_length=2, verbose_name="our ACCT")),
                ("charged_on", models.DateField(blank=True, null=True, verbose_name="charge recorded")),
                ("note", models.CharField(blank=True, max_length=500, verbose_name="what differs")),
                ("resolved_at", models.DateTimeField(blank=True, null=True, verbose_name="resolved")),
                ("resolution", models.CharField(blank=True, max_length=500, verbose_name="resolution")),
                (
                    "charge",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="fees.charge",
                        verbose_name="charge",
                    ),
                ),
                (
                    "request",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="ill.request",
                        verbose_name="request",
                    ),
                ),
                (
                    "resolved_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "statement",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="lines", to="reports.offsetstatement"
                    ),
                ),
            ],
            options={
                "verbose_name": "fee-offset statement line",
                "verbose_name_plural": "fee-offset statement lines",
                "ordering": ["statement", "rank", "line", "id"],
            },
        ),
        migrations.AddIndex(
            model_name="offsetstatement",
            index=models.Index(fields=["-month", "-id"], name="offset_statement_newest"),
        ),
        migrations.AddIndex(
            model_name="offsetline",
            index=models.Index(fields=["statement", "rank", "line", "id"], name="offset_line_list"),
        ),
        migrations.AddIndex(
            model_name="offsetline",
            index=models.Index(fields=["statement", "outcome", "line", "id"], name="offset_line_outcome"),
        ),
        migrations.AddIndex(
            model_name="offsetline",
            index=models.Index(
                condition=models.Q(("charge__isnull", False)), fields=["charge", "outcome"], name="offset_line_charge"
            ),
        ),
        migrations.AddConstraint(
            model_name="offsetline",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "outcome__in",
                        [
                            "duplicate",
                            "lender",
                            "amount",
                            "details",
                            "only_statement",
                            "only_here",
                            "matched",
                            "lending",
                        ],
                    )
                ),
                name="offset_line_outcome_valid",
            ),
        ),
    ]
