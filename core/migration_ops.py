"""Migration operations that only PostgreSQL runs: the trigram search indexes.

SQLite (the embedded default of `make run`) has no pg_trgm; there the searches fall back to a scan,
which is fine at demo size. The operations create their indexes CONCURRENTLY-free, in the migration's
transaction, and drop them on the way back.
"""

from django.db import migrations


class PostgresOnlySQL(migrations.RunSQL):
    """RunSQL that does nothing on a database other than PostgreSQL."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def trigram_index(table: str, column: str, name: str) -> PostgresOnlySQL:
    """A GIN trigram index on UPPER(column::text), the expression Django's `icontains` compiles to
    on PostgreSQL, so `field__icontains` and `field__istartswith` use it."""
    return PostgresOnlySQL(
        sql=f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin (UPPER("{column}"::text) gin_trgm_ops)',
        reverse_sql=f'DROP INDEX IF EXISTS "{name}"',
    )


def prefix_index(table: str, column: str, name: str) -> PostgresOnlySQL:
    """A btree index on UPPER(column::text) with text_pattern_ops: `field__istartswith` (a LIKE
    'X%') uses it whatever the database's collation. Trigrams cannot serve terms of one or two
    characters, such as the surname 佐藤; a prefix can."""
    return PostgresOnlySQL(
        sql=f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" (UPPER("{column}"::text) text_pattern_ops)',
        reverse_sql=f'DROP INDEX IF EXISTS "{name}"',
    )


TRIGRAM_EXTENSION = PostgresOnlySQL(sql="CREATE EXTENSION IF NOT EXISTS pg_trgm", reverse_sql=migrations.RunSQL.noop)
