from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("lending", "0001_initial"),
        ("fees", "0014_verbose_names"),
    ]

    operations = []
