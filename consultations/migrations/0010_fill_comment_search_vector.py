"""Fill the search vector of the comments posted before it was computed on write."""

from django.db import migrations

# The parser reads "<word" as the start of an HTML tag and drops everything up to the next ">",
# so a private-use character after each "<" keeps such text searchable (as in search.py).
# The same statement as search.index_comment, for every comment at once (a text-search vector is
# cheap to compute; one UPDATE keeps the migration independent of the current models).
FILL = """
UPDATE consultations_comment AS c
SET search_vector = to_tsvector(
    CASE con.language
        WHEN 'en' THEN 'english' WHEN 'fr' THEN 'french' WHEN 'es' THEN 'spanish'
        ELSE 'simple'
    END::regconfig,
    replace(c.body_text, '<', '<' || chr(57346))
)
FROM consultations_question AS q
JOIN consultations_consultation AS con ON con.id = q.consultation_id
WHERE q.id = c.question_id
"""


def fill_search_vector(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FILL)


class Migration(migrations.Migration):
    dependencies = [("consultations", "0009_comment_search_vector")]

    operations = [migrations.RunPython(fill_search_vector, migrations.RunPython.noop)]
