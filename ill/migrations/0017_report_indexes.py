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
    ]
