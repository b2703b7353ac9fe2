from django.db import migrations

from core.migration_ops import TRIGRAM_EXTENSION, prefix_index, trigram_index


class Migration(migrations.Migration):
    """Trigram indexes for the desk's patron search by name or kana (PostgreSQL only)."""

    dependencies = [("patrons", "0003_patron_events")]

    operations = [
        TRIGRAM_EXTENSION,
        trigram_index("patrons_patron", "full_name", "patron_name_trgm"),
        trigram_index("patrons_patron", "full_name_kana", "patron_kana_trgm"),
        prefix_index("patrons_patron", "full_name", "patron_name_prefix"),
        prefix_index("patrons_patron", "full_name_kana", "patron_kana_prefix"),
    ]
