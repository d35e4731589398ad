"""The editorial roles: groups "Curators" (draft, revise, submit) and "Editors" (also review,
publish, correct, update, retract), with their permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = {
    "Curators": ["view_developmentrecord", "draft_development"],
    "Editors": [
        "view_developmentrecord",
        "draft_development",
        "review_development",
        "publish_development",
        "retract_development",
    ],
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations ran (post_migrate); create
    # them now so the groups can be given them on a fresh database.
    app_config = apps.get_app_config("developments")
    models_module = getattr(app_config, "models_module", None)
    app_config.models_module = models_module or True
    try:
        create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    finally:
        app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = Group.objects.using(schema_editor.connection.alias).get_or_create(name=name)
        group.permissions.set(
            Permission.objects.using(schema_editor.connection.alias).filter(
                content_type__app_label="developments", codename__in=codenames
            )
        )


def remove_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("developments", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
