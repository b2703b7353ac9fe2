from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("ill", "0023_isil"),
    ]

    operations = []
