from django.db import migrations, models


class Migration(migrations.Migration):
    """The admin's history filtered by one action, newest first: a rare action (an extension
    refused) was found by reading the whole history backwards."""

    dependencies = [("ill", "0011_merge_admin_indexes_lender_search")]

    operations = [
        migrations.AddIndex(
            model_name="requestevent",
            index=models.Index(fields=["action", "created_at", "id"], name="event_action_time"),
        ),
    ]
