from django.db import migrations, models


class Migration(migrations.Migration):
    """Budget codes in their usual order (newest year, then code) read from an index, for the
    admin's list and the autocomplete, instead of sorting thousands of codes with their people."""

    dependencies = [("fees", "0010_ledger_code_amount")]

    operations = [
        migrations.AddIndex(
            model_name="budgetcode",
            index=models.Index(fields=["-fiscal_year", "code"], name="budget_code_newest"),
        ),
    ]
