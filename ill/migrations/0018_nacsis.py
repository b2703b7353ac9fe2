from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("ill", "0017_report_indexes")]

    operations = []
