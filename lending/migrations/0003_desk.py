from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("lending", "0002_money"),
    ]

    operations = []
