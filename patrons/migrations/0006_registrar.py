from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("patrons", "0005_field_bounds")]

    operations = []
