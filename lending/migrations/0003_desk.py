"""The lending desk's search (lending.views.search_q, find_holdings): trigram indexes on what staff
type — the lending number, their number, the titles — and on our holdings' titles, so a search
stays an index look-up however long the history or the catalogue (PostgreSQL only)."""

from django.db import migrations

from core.migration_ops import TRIGRAM_EXTENSION, prefix_index, trigram_index


class Migration(migrations.Migration):
    dependencies = [
        ("lending", "0002_money"),
    ]

    operations = [
        TRIGRAM_EXTENSION,
        trigram_index("lending_lendingrequest", "number", "lending_number_trgm"),
        trigram_index("lending_lendingrequest", "their_reference", "lending_their_reference_trgm"),
        trigram_index("lending_lendingrequest", "title", "lending_title_trgm"),
        trigram_index("lending_lendingrequest", "article_title", "lending_article_trgm"),
        trigram_index("lending_lendingrequest", "journal_title", "lending_journal_trgm"),
        prefix_index("lending_lendingrequest", "title", "lending_title_prefix"),
        trigram_index("ill_localholding", "title", "localholding_title_trgm"),
        prefix_index("ill_localholding", "title", "localholding_title_prefix"),
    ]
