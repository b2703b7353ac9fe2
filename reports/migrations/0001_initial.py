from django.db import migrations


class Migration(migrations.Migration):
    initial = True

    dependencies = [("ill", "0016_retention"), ("patrons", "0005_field_bounds")]

    operations = []
