"""Backup of one whole diagnostic to a JSON document, and its restoration.

`backup(diagnostic)` gathers everything of the diagnostic: its structure (piliers, thèmes,
sous-thèmes), its items (difficultés, indicateurs), their provenance (imports and source
cells), the indicators' measures, and the change history of all of these, history of
deleted things included. `restore(document)` writes it back, with the same numbers (primary
keys), texts and dates, into a database that does not hold it (an empty one, or the same
one after the diagnostic was deleted); all or nothing.

Three kinds of things are referred to rather than owned:
- quartiers (QPV), by their code: created when missing, kept as they are when present;
- the other référentiels shared by every diagnostic that an app registers
  (`register_referentiel`: the comparison territories of the indicators), by their
  natural key, the same way;
- user accounts (who imported, who changed what), by their username: created when missing,
  inactive, without password nor role (the backup holds no password), for an administrator
  to reactivate; kept as they are when present.

The document: {"format", "version", "date", "diagnostic": {"slug", "titre"}, "comptes",
"quartiers", "referentiels" (absent from older backups), "objets"}, "objets" in Django's
serialization format ("python", natural keys for users, quartiers and référentiels), in an
order where every object comes after what it refers to.
"""

import datetime
import json
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.management.color import no_style
from django.core.serializers.base import DeserializationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from . import kinds
from .models import CelluleSource, Diagnostic, Import, Quartier, Suppression

FORMAT = "contrat-ville/sauvegarde-diagnostic"
VERSION = 1


def owned():
    """What a diagnostic owns, parents first: [(model, {field: the model its values point
    to})], every kind of the registry after the diagnostic and its imports.

    A row belongs to the diagnostic when any of these fields points to a row that does;
    its history rows too, and the history of rows deleted since (history keeps their
    diagnostic, and the values' items' numbers).
    """
    result = [
        (Diagnostic, {"pk": Diagnostic}),
        (Import, {"diagnostic": Diagnostic}),
        (CelluleSource, {"import_source": Import}),
        (Suppression, {"diagnostic": Diagnostic}),
    ]
    for kind in kinds.all_kinds():
        if kind.is_value:
            links = {kind.parent: kinds.get(kind.parent).model}
        else:  # levels and items carry their diagnostic
            links = {"diagnostic": Diagnostic}
        result.append((kind.model, links))
    return result


REFERENCED = [Quartier, get_user_model()]
# {section of the document: (model, fields written)}: see `register_referentiel`.
REFERENTIELS = {}


def register_referentiel(section, model, fields):
    """Declare a référentiel shared by every diagnostic that owned rows point to (an
    app's `ready()`): a backup writes the rows referred to (`fields`, the first being the
    natural key), a restoration creates those missing and keeps those present."""
    REFERENTIELS[section] = (model, tuple(fields))
    if model not in REFERENCED:
        REFERENCED.append(model)


# Models of the diagnostic's apps that a backup leaves out, by label, with the reason.
LEFT_OUT = {
    "diagnostics.ImportEnAttente": "un fichier déposé en attente de confirmation, éphémère",
    "diagnostics.HistoricalContrat": (
        "l'historique du contrat, commun à ses éditions : la sauvegarde d'une édition porte "
        "son contrat (référentiel « contrats »), pas cet historique"
    ),
}
HISTORY = "lignes d'historique"


class BackupError(Exception):
    """A document that cannot be restored here, with a French message."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclass
class RestoreReport:
    diagnostic: Diagnostic
    counts: dict[str, int] = field(default_factory=dict)  # by verbose_name_plural
    created_quartiers: list[str] = field(default_factory=list)
    created_accounts: list[str] = field(default_factory=list)
    created_referentiels: list[str] = field(default_factory=list)

    def count(self, model):
        name = model._meta.verbose_name_plural if model in {m for m, _ in owned()} else HISTORY
        self.counts[str(name)] = self.counts.get(str(name), 0) + 1

    def as_lines(self):
        lines = [f"Diagnostic « {self.diagnostic.titre} » ({self.diagnostic.slug}) restauré."]
        lines += [f"{name.capitalize()} : {count}" for name, count in self.counts.items() if count]
        if self.created_quartiers:
            lines.append("Quartiers créés : " + ", ".join(self.created_quartiers))
        if self.created_referentiels:
            lines.append("Référentiels complétés : " + ", ".join(self.created_referentiels))
        if self.created_accounts:
            lines.append(
                "Comptes recréés, inactifs et sans mot de passe ni rôle (à réactiver par un "
                "administrateur) : " + ", ".join(self.created_accounts)
            )
        return lines


def history_model(model):
    return model.history.model if hasattr(model, "history") else None


def history_m2m_models(model):
    """The models keeping the history of a model's many-to-many fields (its quartiers)."""
    historical = history_model(model)
    if historical is None:
        return []
    return [
        related.related_model
        for related in historical._meta.related_objects
        if related.field.name == "history" and related.related_model is not historical
    ]


def backed_up_models():
    """Every model whose rows a backup holds, in restoration order."""
    models = [model for model, _ in owned()]
    for model, _ in owned():
        if history_model(model) is not None:
            models.append(history_model(model))
            models += history_m2m_models(model)
    return models


def _querysets(diagnostic):
    """{model: queryset of the rows of this diagnostic}, in restoration order."""
    ids = {}
    querysets = {}
    for model, links in owned():
        historical = history_model(model)
        current, past = Q(), Q()
        for name, parent in links.items():
            if name == "pk":
                current |= Q(pk__in=ids.get(parent, {diagnostic.pk}))
                past |= Q(id__in=ids.get(parent, {diagnostic.pk}))
            else:
                current |= Q(**{f"{name}__in": ids[parent]})
                past |= Q(**{f"{name}_id__in": ids[parent]})
        numbers = set(model.objects.filter(current).values_list("pk", flat=True))
        if historical is not None:
            numbers |= set(historical.objects.filter(past).values_list("id", flat=True))
        ids[model] = numbers
        querysets[model] = model.objects.filter(pk__in=numbers).order_by("pk")
    for model, _ in owned():
        historical = history_model(model)
        if historical is None:
            continue
        querysets[historical] = historical.objects.filter(id__in=ids[model]).order_by("history_id")
        for m2m in history_m2m_models(model):
            querysets[m2m] = m2m.objects.filter(history__id__in=ids[model]).order_by("pk")
    return querysets


def _referenced_ids(querysets, target):
    """The numbers of the `target` rows (quartiers, accounts) these rows point to."""
    found = set()
    for model, queryset in querysets.items():
        for model_field in model._meta.get_fields():
            if model_field.auto_created or not model_field.is_relation:
                continue
            if model_field.related_model is target:
                found |= set(queryset.values_list(model_field.name, flat=True))
    found.discard(None)
    return found


def backup(diagnostic):
    """The whole diagnostic as a JSON-serializable dict (see the module's docstring)."""
    User = get_user_model()
    querysets = _querysets(diagnostic)
    objets = []
    for queryset in querysets.values():
        objets += serializers.serialize("python", queryset, use_natural_foreign_keys=True)
    quartiers = Quartier.objects.filter(pk__in=_referenced_ids(querysets, Quartier))
    accounts = User.objects.filter(pk__in=_referenced_ids(querysets, User))
    return {
        "format": FORMAT,
        "version": VERSION,
        "date": timezone.now().isoformat(),
        "diagnostic": {"slug": diagnostic.slug, "titre": diagnostic.titre},
        "comptes": [
            {
                "username": account.get_username(),
                "first_name": account.first_name,
                "last_name": account.last_name,
                "email": account.email,
            }
            for account in accounts.order_by("username")
        ],
        "quartiers": [
            {"code": q.code, "nom": q.nom, "communes": q.communes}
            for q in quartiers.order_by("code")
        ],
        "referentiels": {
            section: list(
                model.objects.filter(pk__in=_referenced_ids(querysets, model))
                .order_by(fields[0])
                .values(*fields)
            )
            for section, (model, fields) in REFERENTIELS.items()
        },
        "objets": objets,
    }


class BackupEncoder(DjangoJSONEncoder):
    """Django's encoder cuts times to the millisecond: a backup keeps the microseconds."""

    def default(self, o):
        if isinstance(o, datetime.datetime | datetime.time):
            return o.isoformat()
        return super().default(o)


def dumps(document):
    return json.dumps(document, cls=BackupEncoder, ensure_ascii=False, indent=1)


def loads(text):
    try:
        document = json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise BackupError(f"Ce fichier n'est pas du JSON lisible : {error}.") from error
    _check_document(document)
    return document


def _check_document(document):
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise BackupError(
            "Ce fichier n'est pas une sauvegarde de diagnostic (commande backup_diagnostic)."
        )
    if document.get("version") != VERSION:
        raise BackupError(
            f"Cette sauvegarde est au format {document.get('version')!r}, que cette version "
            f"du site ne sait pas lire (format attendu : {VERSION})."
        )
    for key in ("diagnostic", "comptes", "quartiers", "objets"):
        if key not in document:
            raise BackupError(f"Sauvegarde incomplète : la partie « {key} » manque.")


def restore(document):
    """Write the backed-up diagnostic into this database, all or nothing: a RestoreReport,
    or BackupError (nothing written) when it cannot."""
    _check_document(document)
    slug = document["diagnostic"].get("slug")
    if Diagnostic.objects.filter(slug=slug).exists():
        raise BackupError(
            f"Un diagnostic « {slug} » existe déjà dans cette base : la restauration "
            "n'écrase rien. Supprimez-le d'abord, ou restaurez dans une base vide."
        )
    try:
        with transaction.atomic():
            report = RestoreReport(diagnostic=None)
            _restore_references(document, report)
            objects = list(serializers.deserialize("python", document["objets"]))
            _check_free_numbers(objects)
            _unlink_other_editions(objects)
            for deserialized in objects:
                deserialized.object.skip_history_when_saving = True  # history is restored
                deserialized.save()
                report.count(type(deserialized.object))
            _reset_sequences({type(d.object) for d in objects})
            report.diagnostic = Diagnostic.objects.get(slug=slug)
    except DeserializationError as error:
        raise BackupError(f"Sauvegarde illisible ou abîmée : {error}") from error
    except Diagnostic.DoesNotExist as error:
        raise BackupError(f"La sauvegarde ne contient pas le diagnostic « {slug} ».") from error
    except DatabaseError as error:
        raise BackupError(f"La base a refusé la restauration : {error}") from error
    return report


def _restore_references(document, report):
    User = get_user_model()
    for quartier in document["quartiers"]:
        _, created = Quartier.objects.get_or_create(
            code=quartier["code"],
            defaults={"nom": quartier["nom"], "communes": quartier.get("communes", "")},
        )
        if created:
            report.created_quartiers.append(quartier["code"])
    for section, rows in (document.get("referentiels") or {}).items():
        if section not in REFERENTIELS or not isinstance(rows, list):
            raise BackupError(f"Sauvegarde abîmée : référentiel « {section} » inconnu.")
        model, fields = REFERENTIELS[section]
        key = fields[0]
        for row in rows:
            if not isinstance(row, dict) or not row.get(key):
                raise BackupError(f"Sauvegarde abîmée : une ligne de « {section} » est vide.")
            values = {name: row.get(name) for name in fields[1:] if name in row}
            obj, created = model.objects.get_or_create(**{key: row[key]}, defaults=values)
            if created:
                obj.full_clean()
                report.created_referentiels.append(f"{obj} ({row[key]})")
    for account in document["comptes"]:
        username = account["username"]
        if User.objects.filter(**{User.USERNAME_FIELD: username}).exists():
            continue
        user = User(
            **{User.USERNAME_FIELD: username},
            first_name=account.get("first_name", ""),
            last_name=account.get("last_name", ""),
            email=account.get("email", ""),
            is_active=False,
        )
        user.set_unusable_password()
        user.save()
        report.created_accounts.append(username)


def _unlink_other_editions(objects):
    """What a diagnostic refers to in other editions of its contract (the edition it was
    copied from, the items its items were copied from, the source cells of the imports
    made there) is kept when that row is in this database, emptied otherwise: an edition
    restores on its own."""
    owned_models = {model for model, _ in owned()}
    present = {}
    for deserialized in objects:
        present.setdefault(type(deserialized.object), set()).add(deserialized.object.pk)
    dangling = []  # (object, field)
    wanted = {}  # model -> numbers to look for in the database
    for deserialized in objects:
        obj = deserialized.object
        if type(obj) not in owned_models:
            continue
        for model_field in obj._meta.concrete_fields:
            target = model_field.related_model
            if not (model_field.many_to_one and model_field.null and target in owned_models):
                continue
            value = getattr(obj, model_field.attname)
            if value is not None and value not in present.get(target, ()):
                dangling.append((obj, model_field))
                wanted.setdefault(target, set()).add(value)
    found = {
        model: set(model.objects.filter(pk__in=numbers).values_list("pk", flat=True))
        for model, numbers in wanted.items()
    }
    for obj, model_field in dangling:
        if getattr(obj, model_field.attname) not in found[model_field.related_model]:
            setattr(obj, model_field.attname, None)


def _check_free_numbers(objects):
    """The restored rows keep their numbers: none may be taken already."""
    by_model = {}
    for deserialized in objects:
        by_model.setdefault(type(deserialized.object), []).append(deserialized.object.pk)
    for model, numbers in by_model.items():
        if model.objects.filter(pk__in=numbers).exists():
            raise BackupError(
                f"Cette base contient déjà des {model._meta.verbose_name_plural} portant les "
                "numéros de la sauvegarde : restaurez dans une base vide (ou après avoir "
                "supprimé ce diagnostic)."
            )


def _reset_sequences(models):
    """Rows were written with their numbers: the next ones must come after (PostgreSQL)."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(models))
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
