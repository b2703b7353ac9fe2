from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("lending", "0003_desk"),
    ]

    operations = []
