# Retention (issue 12): when a closed request was anonymised, and the partial index that finds the
# closed requests still to anonymise without reading the anonymised history.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ill", "0015_field_bounds")]

    operations = [
        migrations.AddField(
            model_name="request",
            name="anonymised_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="anonymised"),
        ),
        migrations.AddIndex(
            model_name="request",
            index=models.Index(
                condition=models.Q(("anonymised_at__isnull", True), ("closed_at__isnull", False)),
                fields=["closed_at", "id"],
                name="request_to_anonymise",
            ),
        ),
    ]
