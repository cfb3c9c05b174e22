"""Create the three roles as groups with their model permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

HIERARCHY = ["diagnostic", "pilier", "theme", "soustheme", "difficulte", "quartier"]
EDITED_BY_STAFF = ["pilier", "theme", "soustheme", "difficulte"]


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations: make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def perms(app_label, actions, models):
        codenames = [f"{action}_{model}" for action in actions for model in models]
        return Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)

    partenaire, _ = Group.objects.get_or_create(name="Partenaire")
    partenaire.permissions.set(
        [
            *perms("diagnostics", ["view"], HIERARCHY),
            *perms("indicateurs", ["view"], ["indicateur"]),
        ]
    )

    equipe, _ = Group.objects.get_or_create(name="Équipe ville")
    equipe.permissions.set(
        [
            *perms("diagnostics", ["view"], [*HIERARCHY, "import", "cellulesource"]),
            *perms("diagnostics", ["add", "change", "delete"], EDITED_BY_STAFF),
            *perms("indicateurs", ["view", "add", "change", "delete"], ["indicateur"]),
        ]
    )

    administrateur, _ = Group.objects.get_or_create(name="Administrateur")
    administrateur.permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=["diagnostics", "indicateurs", "auth"]
        )
    )


def delete_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=["Administrateur", "Équipe ville", "Partenaire"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("diagnostics", "0001_initial"),
        ("indicateurs", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, delete_roles)]
