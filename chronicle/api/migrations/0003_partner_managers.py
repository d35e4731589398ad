"""Who may issue partners' API keys: the new group "Partner managers", and editors."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

KEY_PERMISSIONS = ["add_apikey", "change_apikey", "view_apikey"]
GROUPS = ("Partner managers", "Editors")


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations ran; create them now so a fresh
    # database gives the groups theirs.
    app_config = apps.get_app_config("api")
    models_module = getattr(app_config, "models_module", None)
    app_config.models_module = models_module or True
    try:
        create_permissions(app_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    finally:
        app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    db = schema_editor.connection.alias
    permissions = Permission.objects.using(db).filter(content_type__app_label="api", codename__in=KEY_PERMISSIONS)
    for name in GROUPS:
        group, _ = Group.objects.using(db).get_or_create(name=name)
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    db = schema_editor.connection.alias
    permissions = Permission.objects.using(db).filter(content_type__app_label="api", codename__in=KEY_PERMISSIONS)
    for group in Group.objects.using(db).filter(name="Editors"):
        group.permissions.remove(*permissions)
    Group.objects.using(db).filter(name="Partner managers").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0002_public_development_search_index"),
        ("developments", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
