from django.db import migrations, models


class Migration(migrations.Migration):
    """What a student support budget spent or holds read from the index alone (the admin's budget
    list, support.spent and reserved): `support_use_budget_amount` replaces
    `support_use_budget_state`, its first two columns."""

    dependencies = [("fees", "0011_budget_code_newest")]

    operations = [
        migrations.AddIndex(
            model_name="supportuse",
            index=models.Index(fields=["budget", "state", "amount"], name="support_use_budget_amount"),
        ),
        migrations.RemoveIndex(model_name="supportuse", name="support_use_budget_state"),
    ]
