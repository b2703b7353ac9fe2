from django.db import migrations, models


class Migration(migrations.Migration):
    """The admin's e-mail list of one kind, newest first: a rare kind (budget alerts) was found by
    reading millions of messages backwards."""

    dependencies = [("notifications", "0001_initial")]

    operations = [
        migrations.AddIndex(
            model_name="outboxmessage",
            index=models.Index(fields=["kind", "id"], name="outbox_kind"),
        ),
    ]
