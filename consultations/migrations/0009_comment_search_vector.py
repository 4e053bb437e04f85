"""A stored full-text vector on comments with its GIN index, on PostgreSQL only.

The column is not a model field: SQLite (the demo) has no tsvector type nor GIN index, so the
column would mean nothing there, and a field that exists on one database only cannot be
described to the migration autodetector. consultations/search.py reads and writes it with SQL
on PostgreSQL and searches body_text directly on SQLite.
"""

from django.db import migrations

FORWARD = [
    "ALTER TABLE consultations_comment ADD COLUMN search_vector tsvector NULL",
    "CREATE INDEX comment_search_vector_gin ON consultations_comment USING gin (search_vector)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS comment_search_vector_gin",
    "ALTER TABLE consultations_comment DROP COLUMN IF EXISTS search_vector",
]


def _run(statements):
    def operation(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return operation


class Migration(migrations.Migration):
    dependencies = [("consultations", "0008_fill_comment_body_text")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
