from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ill", "0016_retention")]

    operations = [
        migrations.AddField(
            model_name="lendercandidate",
            name="unfilled_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("not_held", "Not held"),
                    ("on_loan", "On loan or in use"),
                    ("not_for_loan", "Not for loan"),
                    ("missing", "Missing or not on the shelf"),
                    ("at_bindery", "At the bindery or being repaired"),
                    ("fragile", "Too fragile to lend or copy"),
                    ("copyright", "Copyright does not allow it"),
                    ("conditions", "Conditions not accepted (fee, payment, delivery)"),
                    ("no_answer", "No answer from the lender"),
                    ("other", "Other reason"),
                ],
                max_length=20,
                verbose_name="reason unfilled",
            ),
        ),
        # The report rollup (reports.rollup): requests changed since its last refresh, one month's
        # arrivals, one month's orders to lenders.
        migrations.AddIndex(
            model_name="request",
            index=models.Index(fields=["updated_at"], name="request_updated"),
        ),
        migrations.AddIndex(
            model_name="request",
            index=models.Index(
                condition=models.Q(("arrived_at__isnull", False)), fields=["arrived_at"], name="request_arrived"
            ),
        ),
        migrations.AddIndex(
            model_name="lendercandidate",
            index=models.Index(
                condition=models.Q(("ordered_at__isnull", False)), fields=["ordered_at"], name="candidate_ordered"
            ),
        ),
    ]
