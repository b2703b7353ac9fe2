from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial"), ("ill", "0018_nacsis"), ("fees", "0013_field_bounds")]

    operations = []
