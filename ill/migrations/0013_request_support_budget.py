from django.db import migrations, models


class Migration(migrations.Migration):
    """The requests each student support budget supports, counted from a partial index (the admin's
    support budget list read every supported request: 24,000 a year)."""

    dependencies = [("ill", "0012_event_action_time")]

    operations = [
        migrations.AddIndex(
            model_name="request",
            index=models.Index(
                condition=models.Q(("support_budget__isnull", False)),
                fields=["support_budget", "status"],
                name="request_support_budget",
            ),
        ),
    ]
