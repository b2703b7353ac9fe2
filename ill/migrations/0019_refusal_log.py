import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ill", "0018_nacsis")]

    operations = [
        migrations.CreateModel(
            name="RuleRefusal",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField(verbose_name="day")),
                ("rule", models.CharField(max_length=40, verbose_name="rule")),
                (
                    "kind",
                    models.CharField(choices=[("loan", "Loan"), ("copy", "Copy")], max_length=10, verbose_name="kind"),
                ),
                (
                    "material_type",
                    models.CharField(
                        choices=[
                            ("book", "Book"),
                            ("chapter", "Book chapter"),
                            ("article", "Journal article"),
                            ("thesis", "Thesis or dissertation"),
                            ("proceedings", "Conference proceedings"),
                            ("serial", "Serial (newspaper, journal volume)"),
                            ("audiovisual", "Audio-visual material"),
                            ("other", "Other"),
                        ],
                        max_length=20,
                        verbose_name="material type",
                    ),
                ),
                (
                    "branch",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="patrons.branch",
                        verbose_name="pick-up branch",
                    ),
                ),
                ("patron_category", models.CharField(blank=True, max_length=30, verbose_name="patron category")),
                ("staff_entry", models.BooleanField(default=False, verbose_name="entered by staff")),
                ("fingerprint", models.CharField(editable=False, max_length=64)),
            ],
            options={
                "verbose_name": "rule refusal",
                "verbose_name_plural": "rule refusals",
                "ordering": ["-day", "-id"],
                "constraints": [models.UniqueConstraint(fields=("day", "fingerprint"), name="refusal_once_a_day")],
                "indexes": [
                    models.Index(fields=["day", "rule", "staff_entry"], name="refusal_day_rule"),
                    models.Index(fields=["branch", "day"], name="refusal_branch_day"),
                ],
            },
        ),
        migrations.AddIndex(
            model_name="request",
            index=models.Index(
                condition=models.Q(("copyright_override_reason", ""), _negated=True),
                fields=["submitted_at"],
                name="request_copyright_override",
            ),
        ),
        migrations.AddIndex(
            model_name="request",
            index=models.Index(
                condition=models.Q(("duplicate_override_reason", ""), _negated=True),
                fields=["submitted_at"],
                name="request_duplicate_override",
            ),
        ),
        migrations.AddIndex(
            model_name="request",
            index=models.Index(
                condition=models.Q(("reject_reason", "copyright")),
                fields=["closed_at"],
                name="request_copyright_rejected",
            ),
        ),
    ]
