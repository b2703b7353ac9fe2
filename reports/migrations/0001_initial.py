from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [("ill", "0016_retention"), ("patrons", "0005_field_bounds")]

    operations = [
        migrations.CreateModel(
            name="RollupState",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("watermark", models.DateTimeField(blank=True, null=True)),
                ("seen", models.DateTimeField(blank=True, null=True)),
                ("computed_at", models.DateTimeField(blank=True, null=True)),
                ("rebuild_needed", models.BooleanField(default=True)),
            ],
            options={"verbose_name": "report figures state"},
        ),
        migrations.CreateModel(
            name="CandidateMonth",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("month", models.DateField()),
                ("branch_id", models.IntegerField()),
                ("lender_id", models.IntegerField()),
                ("state", models.CharField(max_length=10)),
                ("unfilled_reason", models.CharField(blank=True, max_length=20)),
                ("count", models.PositiveIntegerField()),
            ],
            options={"indexes": [models.Index(fields=["month"], name="rollup_candidate_month")]},
        ),
        migrations.CreateModel(
            name="ChargeMonth",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("month", models.DateField()),
                ("branch_id", models.IntegerField()),
                ("payment_class", models.CharField(max_length=10)),
                ("budget_code_id", models.IntegerField(null=True)),
                ("count", models.PositiveIntegerField()),
                ("total", models.BigIntegerField()),
            ],
            options={"indexes": [models.Index(fields=["month"], name="rollup_charge_month")]},
        ),
        migrations.CreateModel(
            name="DurationMonth",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("month", models.DateField()),
                ("branch_id", models.IntegerField()),
                ("kind", models.CharField(max_length=10)),
                ("lender_kind", models.CharField(max_length=20)),
                ("overseas", models.BooleanField()),
                ("delivery", models.CharField(max_length=10)),
                (
                    "measure",
                    models.CharField(
                        choices=[("submitted", "submitted → arrived"), ("ordered", "ordered → arrived")],
                        max_length=10,
                    ),
                ),
                ("count", models.PositiveIntegerField()),
                ("hours", models.JSONField(default=dict)),
            ],
            options={"indexes": [models.Index(fields=["month"], name="rollup_duration_month")]},
        ),
        migrations.CreateModel(
            name="RequestMonth",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "basis",
                    models.CharField(
                        choices=[("submitted", "submitted"), ("ordered", "first ordered"), ("arrived", "arrived")],
                        max_length=10,
                    ),
                ),
                ("month", models.DateField()),
                ("branch_id", models.IntegerField()),
                ("kind", models.CharField(max_length=10)),
                ("status", models.CharField(max_length=20)),
                ("lender_kind", models.CharField(blank=True, max_length=20)),
                ("overseas", models.BooleanField(null=True)),
                ("supplied", models.BooleanField(default=False)),
                ("count", models.PositiveIntegerField()),
            ],
            options={"indexes": [models.Index(fields=["basis", "month"], name="rollup_request_month")]},
        ),
    ]
