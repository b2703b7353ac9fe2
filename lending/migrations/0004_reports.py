from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("lending", "0003_desk"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="lendingrequest",
            index=models.Index(
                condition=models.Q(("shipped_at__isnull", False)), fields=["shipped_at"], name="lending_shipped"
            ),
        ),
        migrations.AddIndex(
            model_name="lendingrequest",
            index=models.Index(
                condition=models.Q(("unfilled_reason", "copyright")),
                fields=["-received_at"],
                name="lending_copyright_refused",
            ),
        ),
        migrations.AddIndex(
            model_name="lendingrequest",
            index=models.Index(
                condition=models.Q(("copyright_override_reason", ""), _negated=True),
                fields=["-received_at"],
                name="lending_copyright_override",
            ),
        ),
        migrations.AddIndex(
            model_name="lendingcharge",
            index=models.Index(fields=["created_at"], name="lending_charge_created"),
        ),
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(fields=["issued_on"], name="lending_invoice_issued"),
        ),
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(
                condition=models.Q(("paid_on__isnull", False)), fields=["paid_on"], name="lending_invoice_paid"
            ),
        ),
        migrations.AddIndex(
            model_name="renewal",
            index=models.Index(
                condition=models.Q(("decided_at__isnull", False)), fields=["decided_at"], name="lending_renewal_decided"
            ),
        ),
    ]
