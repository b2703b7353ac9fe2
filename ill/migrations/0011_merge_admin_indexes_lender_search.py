from django.db import migrations


class Migration(migrations.Migration):
    """Joins the two branches that grew from 0007: the admin's indexes and the lender search."""

    dependencies = [
        ("ill", "0008_admin_indexes"),
        ("ill", "0010_lender_search"),
    ]

    operations = []
