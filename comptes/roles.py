"""The roles of the site and what each may do: declared once here, read everywhere.

A role is a Django group of the same name. `ROLES` says, for each, what the access rule
of the site reads (`diagnostics.access`: who reads drafts, who edits, who administers)
and which Django model permissions its group holds, which the admin checks. The groups
and their permissions are derived from `ROLES` after every `migrate` (`sync_roles`, on
`post_migrate`): a model added later gets its permissions in the roles whose grants
name its application (`"indicateurs.*"`) or every model (`"*"`), with no migration to
write. A superuser holds the Administrateur role whatever their groups.
"""

from dataclasses import dataclass
from enum import StrEnum
from fnmatch import fnmatchcase

from django.conf import settings


class Role(StrEnum):
    ADMINISTRATEUR = "Administrateur"
    EQUIPE_VILLE = "Équipe ville"
    PARTENAIRE = "Partenaire"


VIEW, ADD, CHANGE, DELETE = "view", "add", "change", "delete"
EVERY_ACTION = frozenset({VIEW, ADD, CHANGE, DELETE})

# Applications outside the project whose models the administrators manage (the accounts).
MANAGED_THIRD_PARTY_APPS = frozenset({"auth"})


@dataclass(frozen=True)
class Grant:
    """Django model permissions: these actions on the models these patterns name.

    A pattern is "app_label.model_name" (lower case, as Django names permissions),
    "app_label.*" (every model of the application, present and future) or "*" (every
    model of the project's applications and of MANAGED_THIRD_PARTY_APPS).
    """

    actions: frozenset
    models: tuple[str, ...]

    def covers(self, action, app_label, model_name):
        return action in self.actions and any(
            _matches(pattern, app_label, model_name) for pattern in self.models
        )


def _matches(pattern, app_label, model_name):
    if pattern == "*":
        return app_label in managed_apps()
    return fnmatchcase(f"{app_label}.{model_name}", pattern)


def grant(actions, *models):
    return Grant(frozenset(actions), models)


@dataclass(frozen=True)
class Droits:
    """What a role may do."""

    lit_les_brouillons: bool  # reads the diagnostics that are not published
    modifie: bool  # edits diagnostics and enters indicators' values on the site
    administre: bool  # imports, publishing, accounts: the admin and the import screens
    permissions: tuple[Grant, ...]  # its group's Django model permissions

    def has_permission(self, action, app_label, model_name):
        return any(g.covers(action, app_label, model_name) for g in self.permissions)


# What the hierarchy of a diagnostic is made of, as Django names its models.
HIERARCHY = (
    "diagnostics.diagnostic",
    "diagnostics.pilier",
    "diagnostics.theme",
    "diagnostics.soustheme",
    "diagnostics.difficulte",
    "diagnostics.quartier",
    "indicateurs.indicateur",
    "indicateurs.mesure",
)
EDITED_BY_STAFF = (
    "diagnostics.pilier",
    "diagnostics.theme",
    "diagnostics.soustheme",
    "diagnostics.difficulte",
    "indicateurs.indicateur",
    "indicateurs.mesure",
)

ROLES = {
    Role.ADMINISTRATEUR: Droits(
        lit_les_brouillons=True,
        modifie=True,
        administre=True,
        permissions=(grant(EVERY_ACTION, "*"),),
    ),
    Role.EQUIPE_VILLE: Droits(
        lit_les_brouillons=True,
        modifie=True,
        administre=False,
        permissions=(
            grant({VIEW}, *HIERARCHY, "diagnostics.import", "diagnostics.cellulesource"),
            grant({ADD, CHANGE, DELETE}, *EDITED_BY_STAFF),
        ),
    ),
    Role.PARTENAIRE: Droits(
        lit_les_brouillons=False,
        modifie=False,
        administre=False,
        permissions=(grant({VIEW}, *HIERARCHY),),
    ),
}


def managed_apps():
    """The labels of the applications whose models "*" names: the project's own
    (settings.LOCAL_APPS) and MANAGED_THIRD_PARTY_APPS."""
    return {name.rsplit(".", 1)[-1] for name in settings.LOCAL_APPS} | MANAGED_THIRD_PARTY_APPS


# The roles of a user ---------------------------------------------------------------------


def roles_of(user):
    """The set of Role of a user (cached on the user object for the request)."""
    if not user.is_authenticated:
        return frozenset()
    if not hasattr(user, "_contrat_ville_roles"):
        names = {group.name for group in user.groups.all()}
        roles = {role for role in Role if role.value in names}
        if user.is_superuser:
            roles.add(Role.ADMINISTRATEUR)
        user._contrat_ville_roles = frozenset(roles)
    return user._contrat_ville_roles


def _any(user, capability):
    return any(getattr(ROLES[role], capability) for role in roles_of(user))


def is_administrateur(user):
    """Imports, publishing, accounts: the admin and the import screens."""
    return _any(user, "administre")


def can_edit(user):
    """Edits the diagnostics and enters the indicators' values."""
    return _any(user, "modifie")


def reads_drafts(user):
    return _any(user, "lit_les_brouillons")


def roles_that(capability):
    """The roles holding a capability of `Droits` ("modifie", "administre"...)."""
    return [role for role, droits in ROLES.items() if getattr(droits, capability)]


# Deriving the groups' permissions ----------------------------------------------------------


def sync_roles(apps=None, using="default", **kwargs):
    """Create the roles' groups and give each exactly the permissions ROLES declares.

    `apps` is the registry to read (the migration state on `post_migrate`); every model's
    content type and permissions are made sure of first, so that the permissions of a
    model added by this very migrate are granted at once.
    """
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.contenttypes.management import create_contenttypes

    apps = apps or global_apps
    try:
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
    except LookupError:  # auth is being unapplied
        return
    for app_config in global_apps.get_app_configs():
        create_contenttypes(app_config, verbosity=0, using=using, apps=apps)
        create_permissions(app_config, verbosity=0, using=using, apps=apps)
    permissions = list(
        Permission.objects.using(using).values_list(
            "pk", "codename", "content_type__app_label", "content_type__model"
        )
    )
    for role, droits in ROLES.items():
        group, _ = Group.objects.using(using).get_or_create(name=role.value)
        group.permissions.set(
            [
                pk
                for pk, codename, app_label, model_name in permissions
                if droits.has_permission(
                    codename.removesuffix(f"_{model_name}"), app_label, model_name
                )
            ]
        )
