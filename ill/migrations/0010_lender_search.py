"""Trigram indexes for the desk's lender search (`ill.lender_search`): code, name and English name
searched as typed (`icontains`, `istartswith`, `iexact` all compile to UPPER(column) on
PostgreSQL). PostgreSQL only; elsewhere the search scans the (few hundred) lenders."""

from django.db import migrations

from core.migration_ops import TRIGRAM_EXTENSION, trigram_index


class Migration(migrations.Migration):
    dependencies = [
        ("ill", "0007_search_and_open_work"),
    ]

    operations = [
        TRIGRAM_EXTENSION,
        trigram_index("ill_lendinginstitution", "code", "lender_code_trgm"),
        trigram_index("ill_lendinginstitution", "name", "lender_name_trgm"),
        trigram_index("ill_lendinginstitution", "name_en", "lender_name_en_trgm"),
    ]
