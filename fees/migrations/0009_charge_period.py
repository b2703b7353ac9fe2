from django.db import migrations, models


class Migration(migrations.Migration):
    """The charges report: `charge_period` holds what a period's totals read, so they are an
    index-only scan; it replaces `charge_month_class`, its first two columns."""

    dependencies = [("fees", "0008_admin_indexes")]

    operations = [
        migrations.AddIndex(
            model_name="charge",
            index=models.Index(fields=["created_at", "payment_class", "state", "total"], name="charge_period"),
        ),
        migrations.RemoveIndex(model_name="charge", name="charge_month_class"),
    ]
