from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("iso18626", "0001_initial"),
        ("lending", "0003_desk"),
    ]

    operations = []
