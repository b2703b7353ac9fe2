# Placeholder in the chain, filled by hand by the work it is named after (issue 12).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("patrons", "0004_name_search")]

    operations = []
