from django.db import migrations, models


class Migration(migrations.Migration):
    """Indexes for the admin's lists of the money tables, newest first (the list read the whole
    table to sort it)."""

    dependencies = [("fees", "0007_ledger_checks")]

    operations = [
        migrations.AddIndex(
            model_name="budgetledgerentry",
            index=models.Index(fields=["created_at", "id"], name="ledger_time"),
        ),
        migrations.AddIndex(
            model_name="shipment",
            index=models.Index(fields=["received_at", "id"], name="shipment_time"),
        ),
        migrations.AddIndex(
            model_name="supportuse",
            index=models.Index(fields=["created_at", "id"], name="support_use_time"),
        ),
    ]
