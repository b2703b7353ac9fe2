from django.db import migrations, models


class Migration(migrations.Migration):
    """Indexes for the admin's lists at a million requests: the history and the extensions newest
    first (the list read the whole table to sort it)."""

    dependencies = [("ill", "0007_search_and_open_work")]

    operations = [
        migrations.AddIndex(
            model_name="requestevent",
            index=models.Index(fields=["created_at", "id"], name="event_time"),
        ),
        migrations.AddIndex(
            model_name="extensionrequest",
            index=models.Index(fields=["requested_at", "id"], name="extension_requested"),
        ),
    ]
