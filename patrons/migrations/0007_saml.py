from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("patrons", "0006_registrar"),
    ]

    operations = []
