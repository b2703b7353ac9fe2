"""One NACSIS-ILL record is one request: the ID is unique when filled in (it was only indexed)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ill", "0021_verbose_names")]

    operations = [
        migrations.RemoveIndex(
            model_name="request",
            name="request_nacsis_ill_id",
        ),
        migrations.AddConstraint(
            model_name="request",
            constraint=models.UniqueConstraint(
                condition=models.Q(("nacsis_ill_id", ""), _negated=True),
                fields=("nacsis_ill_id",),
                name="request_nacsis_ill_id_unique",
            ),
        ),
    ]
