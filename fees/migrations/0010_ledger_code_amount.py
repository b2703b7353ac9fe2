from django.db import migrations, models


class Migration(migrations.Migration):
    """A budget code's committed and charged sums (the admin's budget code list, the "left" of a
    code) read from the index alone: `ledger_code_amount` replaces `ledger_code_type`, its first
    two columns."""

    dependencies = [("fees", "0009_charge_period")]

    operations = [
        migrations.AddIndex(
            model_name="budgetledgerentry",
            index=models.Index(fields=["budget_code", "entry_type", "amount"], name="ledger_code_amount"),
        ),
        migrations.RemoveIndex(model_name="budgetledgerentry", name="ledger_code_type"),
    ]
