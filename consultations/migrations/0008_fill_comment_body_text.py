"""Fill Comment.body_text for the comments posted before it was computed on write."""

from django.db import migrations, transaction

# The same function the services call on write, so old and new rows hold the same text. It takes
# only a string, so the migration does not depend on the current models.
from consultations.sanitize import html_to_text

BATCH_SIZE = 500


def fill_body_text(apps, schema_editor):
    Comment = apps.get_model("consultations", "Comment")
    db = schema_editor.connection.alias
    last_pk = 0
    while True:
        # Keyset pages by primary key: each batch is one short read and one UPDATE, whatever the
        # table's size, and a run cut short resumes where it stopped (filled rows are skipped).
        batch = list(
            Comment.objects.using(db)
            .filter(pk__gt=last_pk, body_text="")
            .exclude(body="")
            .order_by("pk")
            .values_list("pk", "body")[:BATCH_SIZE]
        )
        if not batch:
            return
        with transaction.atomic(using=db):
            Comment.objects.using(db).bulk_update(
                [Comment(pk=pk, body_text=html_to_text(body)) for pk, body in batch],
                ["body_text"],
            )
        last_pk = batch[-1][0]


class Migration(migrations.Migration):
    # One transaction per batch rather than one for the whole table.
    atomic = False

    dependencies = [("consultations", "0007_comment_body_text")]

    operations = [migrations.RunPython(fill_body_text, migrations.RunPython.noop, elidable=True)]
