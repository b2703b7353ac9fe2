from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("patrons", "0006_registrar"),
    ]

    operations = [
        migrations.AddField(
            model_name="patron",
            name="eppn",
            field=models.CharField(
                blank=True,
                help_text="eduPersonPrincipalName sent by the university's sign-in, e.g. s1234567@example.ac.jp.",
                max_length=255,
                verbose_name="university account (ePPN)",
            ),
        ),
        migrations.AddConstraint(
            model_name="patron",
            constraint=models.UniqueConstraint(
                condition=models.Q(("eppn", ""), _negated=True), fields=("eppn",), name="patron_eppn_unique"
            ),
        ),
    ]
