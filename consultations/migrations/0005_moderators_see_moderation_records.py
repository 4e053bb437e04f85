"""Moderators may view the moderation log, reports and comment revisions (written by services)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = ["view_moderationaction", "view_report", "view_commentrevision"]


def grant(apps, schema_editor):
    app_config = apps.get_app_config("consultations")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Moderators")
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="consultations", codename__in=CODENAMES)
    )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name="Moderators"):
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="consultations", codename__in=CODENAMES
            )
        )


class Migration(migrations.Migration):
    dependencies = [("consultations", "0004_moderation_revisions_attachments_tree_constraints")]

    operations = [migrations.RunPython(grant, revoke)]
