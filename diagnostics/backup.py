"""Backup of one whole diagnostic to a document streamed line by line, and its restoration.

`write_backup(diagnostic, out)` gathers everything of the diagnostic: its structure (piliers,
thèmes, sous-thèmes), its items (difficultés, indicateurs), their provenance (imports and
source cells), the indicators' measures, and the change history of all of these, history of
deleted things included. `restore(source)` writes it back, with the same numbers (primary
keys), texts and dates, into a database that does not hold it (an empty one, or the same
one after the diagnostic was deleted); all or nothing, in one transaction.

Three kinds of things are referred to rather than owned:
- quartiers (QPV), by their code: created when missing, kept as they are when present;
- the other référentiels shared by every diagnostic that an app registers
  (`register_referentiel`: the contract of the edition, the comparison territories of the
  indicators), by their natural key, the same way;
- user accounts (who imported, who changed what), by their username: created when missing,
  inactive, without password nor role (the backup holds no password, and roles are held on
  the contract, not on the edition: `LEFT_OUT`), for an administrator to reactivate; kept
  as they are when present.

The document (version 2), JSON Lines, UTF-8 — one JSON value per line, so that neither the
backup nor the restoration holds the whole document (nor whole tables) in memory:

    {"format", "version": 2, "date", "diagnostic": {"slug", "titre"}}
    {"comptes": [{"id", "username", "first_name", "last_name", "email"}, …]}
    {"quartiers": [{"id", "code", "nom", "region", "communes": [[code INSEE, nom], …]}, …]}
    {"referentiels": {section: [{"id", natural key, other fields…}, …]}}
    {"modele": "app.model", "champs": ["id", "diagnostic_id", …, "quartiers"]}
    [row values in the order of "champs"]            (one line per row)
    …                                                 (a "modele" line per model)
    {"fin": number of rows}

Models come in an order where every row comes after what it refers to. "champs" are the
columns (attnames: foreign keys by number) then the many-to-many fields (a list of
numbers); a number pointing to an account, a quartier or a référentiel is the one of its
"id" in the sections above, translated on restoration through its natural key. Dates are in
ISO 8601 with their microseconds, decimals as strings. The last line makes a cut file
detectable. Version 1 documents (one JSON object, "objets" in Django's serialization
format with natural keys) are still read.

Restoring after the diagnostic was deleted: deleting a diagnostic keeps the history of its
rows (the journal of a contract's editions and the history pages read it), so those history
rows are still there, with the numbers of the backup. The restoration replaces them: a
history row whose number is taken is overwritten by the backup's when it is the history of
the same row (same `id`, for the history of many-to-many fields the same history row) — a
history row of another row with that number refuses the restoration. History rows written
after the backup (the deletion's "-" rows) are kept: they tell that the rows were deleted
before being restored.
"""

import datetime
import decimal
import json
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from itertools import islice

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.color import no_style
from django.db import DatabaseError, connection, transaction
from django.db.models import Exists, OuterRef, Prefetch, Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from . import kinds
from .models import CelluleSource, Commune, Diagnostic, Import, Quartier, Suppression

FORMAT = "contrat-ville/sauvegarde-diagnostic"
VERSION = 2
READABLE_VERSIONS = (1, 2)
CHUNK = 2_000  # rows read (backup) or written (restoration) at once


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
    "diagnostics.Commune": (
        "les communes du référentiel des quartiers : portées par chaque quartier de la "
        "sauvegarde (codes INSEE et noms), recréées au besoin"
    ),
    "diagnostics.ImportReferentiel": (
        "le journal des chargements du référentiel national des quartiers, commun à tous "
        "les contrats"
    ),
    "diagnostics.ImportEnAttente": "un fichier déposé en attente de confirmation, éphémère",
    "diagnostics.HistoricalContrat": (
        "l'historique du contrat, commun à ses éditions : la sauvegarde d'une édition porte "
        "son contrat (référentiel « contrats »), pas cet historique"
    ),
    # Roles are held on the contract, not on an edition: they stay in the base when an
    # edition is deleted (so restoring them would clash with themselves), and restored
    # accounts come back without any role, for an administrator to give again.
    "diagnostics.Membre": (
        "les rôles sur le contrat, communs à ses éditions : la sauvegarde d'une édition n'en "
        "porte aucun, les comptes restaurés le sont sans rôle"
    ),
    "diagnostics.HistoricalMembre": "l'historique des rôles sur le contrat, commun à ses éditions",
    "diagnostics.Invitation": (
        "une invitation à un rôle sur le contrat, éphémère, dont le lien secret n'est connu "
        "que de son destinataire"
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

    def count(self, model, number=1):
        name = model._meta.verbose_name_plural if model in {m for m, _ in owned()} else HISTORY
        self.counts[str(name)] = self.counts.get(str(name), 0) + number

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


def _owned_ids(diagnostic):
    """{model: set of the numbers of its rows in this diagnostic}, live rows and rows only
    history remembers, in restoration order."""
    ids = {}
    for model, links in owned():
        historical = history_model(model)
        current, past = Q(), Q()
        for name, parent in links.items():
            if name == "pk":
                current |= Q(pk__in=ids.get(parent, {diagnostic.pk}))
                past |= Q(id__in=ids.get(parent, {diagnostic.pk}))
            else:
                current |= Q(**{f"{name}__in": _in(ids[parent])})
                past |= Q(**{f"{name}_id__in": _in(ids[parent])})
        numbers = set(model.objects.filter(current).values_list("pk", flat=True))
        if historical is not None:
            numbers |= set(historical.objects.filter(past).values_list("id", flat=True))
        ids[model] = numbers
    return ids


def _in(numbers):
    return sorted(numbers)


def _chunks(numbers, size=CHUNK):
    numbers = sorted(numbers)
    for start in range(0, len(numbers), size):
        yield numbers[start : start + size]


def _columns(model):
    """(concrete fields, many-to-many fields) of a model, as a block writes them."""
    m2m = [] if model not in {m for m, _ in owned()} else list(model._meta.many_to_many)
    return list(model._meta.concrete_fields), m2m


def _blocks(ids):
    """(model, iterator of its row querysets' values), in restoration order."""
    for model, _ in owned():
        yield model, "pk", ids[model]
    for model, _ in owned():
        historical = history_model(model)
        if historical is None:
            continue
        yield historical, "id", ids[model]
        for m2m in history_m2m_models(model):
            yield m2m, "history__id", ids[model]


def _rows(model, key, numbers):
    """The rows of `model` whose `key` is among `numbers`, a chunk at a time: lists of
    values in the order of `_columns`, many-to-many fields as lists of numbers."""
    concrete, m2m = _columns(model)
    names = [_read_as(f) for f in concrete]
    order = ["id", "history_id"] if key == "id" else ["pk"]
    for chunk in _chunks(numbers):
        rows = list(
            model.objects.filter(**{f"{key}__in": chunk}).order_by(*order).values_list(*names)
        )
        related = []
        for m2m_field in m2m:
            through = m2m_field.remote_field.through
            source = m2m_field.m2m_field_name() + "_id"
            target = m2m_field.m2m_reverse_field_name() + "_id"
            by_row = {}
            pairs = through.objects.filter(**{f"{source}__in": chunk}).order_by("pk")
            for row, other in pairs.values_list(source, target):
                by_row.setdefault(row, []).append(other)
            related.append(by_row)
        for row in rows:
            yield [*row, *(by_row.get(row[0], []) for by_row in related)]


CAST_AS_TEXT = {"DateTimeField", "DecimalField"}


def _read_as(model_field):
    """What a backup reads of a column: on PostgreSQL, dates and decimals as the database
    writes them (ISO 8601 in UTC, the decimals' digits), rather than parsed then written."""
    if connection.vendor == "postgresql" and model_field.get_internal_type() in CAST_AS_TEXT:
        return Cast(model_field.attname, output_field=TextField())
    return model_field.attname


def _plain(value):
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} n'a pas de forme JSON")


_ENCODER = json.JSONEncoder(default=_plain, ensure_ascii=False, separators=(",", ":"))


def _line(value):
    return _ENCODER.encode(value) + "\n"


def write_backup(diagnostic, out):
    """Write the whole diagnostic to `out` (a text file), line by line (see the module's
    docstring). Returns {"date", "objets", "comptes", "quartiers"} (counts)."""
    User = get_user_model()
    ids = _owned_ids(diagnostic)
    referenced = {model: set() for model in REFERENCED}
    total = 0
    with tempfile.TemporaryFile("w+", encoding="utf-8") as body:
        for model, key, numbers in _blocks(ids):
            concrete, m2m = _columns(model)
            body.write(
                _line(
                    {
                        "modele": model._meta.label_lower,
                        "champs": [f.attname for f in concrete] + [f.name for f in m2m],
                    }
                )
            )
            pointing = [
                (i, referenced[f.related_model])
                for i, f in enumerate(concrete)
                if f.is_relation and f.related_model in referenced
            ]
            pointing_m2m = [
                (len(concrete) + i, referenced[f.related_model])
                for i, f in enumerate(m2m)
                if f.related_model in referenced
            ]
            for row in _rows(model, key, numbers):
                for i, found in pointing:
                    if row[i] is not None:
                        found.add(row[i])
                for i, found in pointing_m2m:
                    found.update(row[i])
                body.write(_line(row))
                total += 1
        date = timezone.now().isoformat()
        out.write(
            _line(
                {
                    "format": FORMAT,
                    "version": VERSION,
                    "date": date,
                    "diagnostic": {"slug": diagnostic.slug, "titre": diagnostic.titre},
                }
            )
        )
        comptes = [
            {
                "id": account.pk,
                "username": account.get_username(),
                "first_name": account.first_name,
                "last_name": account.last_name,
                "email": account.email,
            }
            for account in User.objects.filter(pk__in=_in(referenced[User])).order_by(
                User.USERNAME_FIELD
            )
        ]
        quartiers = [
            {
                "id": quartier.pk,
                "code": quartier.code,
                "nom": quartier.nom,
                "region": quartier.region,
                "communes": [[c.code, c.nom] for c in quartier.communes.all()],
            }
            for quartier in Quartier.objects.filter(pk__in=_in(referenced[Quartier]))
            .order_by("code")
            .prefetch_related(Prefetch("communes", Commune.objects.order_by("code")))
        ]
        out.write(_line({"comptes": comptes}))
        out.write(_line({"quartiers": quartiers}))
        out.write(
            _line(
                {
                    "referentiels": {
                        section: list(
                            model.objects.filter(pk__in=_in(referenced[model]))
                            .order_by(fields[0])
                            .values("id", *fields)
                        )
                        for section, (model, fields) in REFERENTIELS.items()
                    }
                }
            )
        )
        body.seek(0)
        shutil.copyfileobj(body, out)
    out.write(_line({"fin": total}))
    return {"date": date, "objets": total, "comptes": len(comptes), "quartiers": len(quartiers)}


def backup(diagnostic):
    """The whole document as one string: for small diagnostics and tests (`write_backup`
    writes it to a file without holding it)."""
    import io

    out = io.StringIO()
    write_backup(diagnostic, out)
    return out.getvalue()


def dumps(document):
    """The document as text: `backup` gives it already (kept for callers of version 1's
    `loads(dumps(backup(d)))`); a version 1 dict as version 1 wrote it."""
    if isinstance(document, str):
        return document
    return json.dumps(document, default=_plain, ensure_ascii=False, indent=1)


def loads(text):
    """`read(text)`: the document's header and sections, its rows read when restored."""
    return read(text)


# Reading -------------------------------------------------------------------------------------


@dataclass
class Document:
    """A backup being read: its header and sections, and `blocks`, an iterator of
    (model label, champs, iterator of rows) to be consumed in order."""

    header: dict
    comptes: list
    quartiers: list
    referentiels: dict
    blocks: object
    version: int


def _json(text):
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError) as error:
        raise BackupError(f"Ce fichier n'est pas du JSON lisible : {error}.") from error


def read(source):
    """A `Document` from a text file, an iterable of lines or a string; BackupError when it
    is not a backup this version can read."""
    lines = iter(source.splitlines() if isinstance(source, str) else source)
    first = next(lines, "")  # a file that is not UTF-8: UnicodeDecodeError, to the caller
    try:
        header = json.loads(first)
    except ValueError:  # a version 1 document, written over several lines
        header = _json(
            first + "\n" + "".join(line if line.endswith("\n") else line + "\n" for line in lines)
        )
    _check_header(header)
    if header["version"] == 1:
        return _read_version_1(header)
    sections = {}
    for key in ("comptes", "quartiers", "referentiels"):
        line = _json(next(lines, "null"))
        if not isinstance(line, dict) or key not in line:
            raise BackupError(f"Sauvegarde incomplète : la partie « {key} » manque.")
        sections[key] = line[key]
    return Document(
        header=header,
        comptes=sections["comptes"],
        quartiers=sections["quartiers"],
        referentiels=sections["referentiels"] or {},
        blocks=_blocks_of(lines),
        version=2,
    )


def _check_header(header):
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackupError(
            "Ce fichier n'est pas une sauvegarde de diagnostic (commande backup_diagnostic)."
        )
    if header.get("version") not in READABLE_VERSIONS:
        raise BackupError(
            f"Cette sauvegarde est au format {header.get('version')!r}, que cette version "
            f"du site ne sait pas lire (formats lus : {', '.join(map(str, READABLE_VERSIONS))})."
        )
    keys = ("diagnostic", "comptes", "quartiers", "objets") if header["version"] == 1 else ()
    for key in ("diagnostic", *keys):
        if key not in header:
            raise BackupError(f"Sauvegarde incomplète : la partie « {key} » manque.")


class _Block:
    """The rows of one model, read lazily from the lines; `next_header` is set to the next
    header line (or {} at the end of the lines) once they are consumed."""

    def __init__(self, lines, first_row):
        self.lines = lines
        self.pending = first_row
        self.next_header = None

    def __iter__(self):
        if self.next_header is not None:  # read already
            return
        if self.pending is not None:
            yield self.pending
            self.pending = None
        for text in self.lines:
            value = _json(text)
            if isinstance(value, dict):
                self.next_header = value
                return
            yield value
        self.next_header = {}


def _blocks_of(lines):
    header = _json(next(lines, "{}"))
    while True:
        if not isinstance(header, dict) or not header:
            raise BackupError("Sauvegarde incomplète : la fin du fichier manque (fichier coupé ?).")
        if "fin" in header:
            return
        if "modele" not in header or not isinstance(header.get("champs"), list):
            raise BackupError("Sauvegarde illisible ou abîmée : ligne inattendue.")
        block = _Block(lines, None)
        yield header["modele"], header["champs"], block
        for _ in block:  # whatever was not consumed
            pass
        header = block.next_header


def _read_version_1(document):
    """A version 1 document as a `Document`: "objets" grouped by model (they come model by
    model), values by field name; references by natural key (lists)."""

    def blocks():
        objets = document["objets"]
        start = 0
        while start < len(objets):
            label = objets[start].get("model") if isinstance(objets[start], dict) else None
            end = start
            while end < len(objets) and objets[end].get("model") == label:
                end += 1
            try:
                model = apps.get_model(label)
            except (LookupError, ValueError, TypeError) as error:
                raise BackupError(f"Sauvegarde illisible ou abîmée : {error}") from error
            concrete, m2m = _columns(model)
            champs = [f.attname for f in concrete] + [f.name for f in m2m]
            names = [f.name for f in concrete] + [f.name for f in m2m]
            pk_name = model._meta.pk.name

            def rows(objets=objets[start:end], names=names, pk_name=pk_name):
                for objet in objets:
                    fields = objet.get("fields", {})
                    yield [
                        objet.get("pk") if name == pk_name else fields.get(name, _MISSING)
                        for name in names
                    ]

            yield label, champs, rows()
            start = end

    return Document(  # no "id" in the sections: references go by natural key
        header=document,
        comptes=document["comptes"],
        quartiers=document["quartiers"],
        referentiels=document.get("referentiels") or {},
        blocks=blocks(),
        version=1,
    )


_MISSING = object()


# Restoring -----------------------------------------------------------------------------------


def restore(source):
    """Write the backed-up diagnostic into this database, all or nothing: a RestoreReport,
    or BackupError (nothing written) when it cannot. `source`: a text file (read line by
    line), an iterable of lines, a string or a `Document`."""
    document = source if isinstance(source, Document) else read(source)
    slug = document.header["diagnostic"].get("slug")
    if Diagnostic.objects.filter(slug=slug).exists():
        raise BackupError(
            f"Un diagnostic « {slug} » existe déjà dans cette base : la restauration "
            "n'écrase rien. Supprimez-le d'abord, ou restaurez dans une base vide."
        )
    try:
        with transaction.atomic():
            report = RestoreReport(diagnostic=None)
            references = _restore_references(document, report)
            written = _Restorer(references, report).run(document.blocks)
            _unlink_other_editions(written)
            _reset_sequences(list(written))
            report.diagnostic = Diagnostic.objects.get(slug=slug)
    except Diagnostic.DoesNotExist as error:
        raise BackupError(f"La sauvegarde ne contient pas le diagnostic « {slug} ».") from error
    except DatabaseError as error:
        raise BackupError(f"La base a refusé la restauration : {error}") from error
    return report


class _References:
    """The rows referred to, found or created: their number here, from their number in the
    backup (version 2) or their natural key (version 1)."""

    def __init__(self):
        self.by_old = {model: {} for model in REFERENCED}
        self.by_key = {model: {} for model in REFERENCED}

    def add(self, model, old, key, new):
        if old is not None:
            self.by_old[model][old] = new
        self.by_key[model][key] = new

    def resolve(self, model, value):
        if value is None:
            return None
        if isinstance(value, list):  # a natural key (version 1)
            found = self.by_key[model].get(value[0] if value else None)
        else:
            found = self.by_old[model].get(value)
        if found is None:
            raise BackupError(
                f"Sauvegarde illisible ou abîmée : {model._meta.verbose_name} {value!r} "
                "cité sans figurer dans la sauvegarde."
            )
        return found


def _check(obj, label):
    try:
        obj.full_clean()
    except ValidationError as error:
        raise BackupError(
            f"Sauvegarde abîmée : {label} : " + " ".join(map(str, error.messages))
        ) from error


def _restore_communes(communes):
    """The Commune rows of a restored quartier's [[code, nom], …], created when missing.
    Backups written before the référentiel (issue 18) held the communes as one text: it is
    ignored (the référentiel gives them back)."""
    if not isinstance(communes, list):
        return []
    found = []
    for entry in communes:
        if not (isinstance(entry, list | tuple) and entry and isinstance(entry[0], str)):
            raise BackupError("Sauvegarde abîmée : une commune d'un quartier est illisible.")
        nom = entry[1] if len(entry) > 1 and isinstance(entry[1], str) else ""
        commune, _ = _checked_or_existing(Commune(code=entry[0], nom=nom), f"commune {entry[0]!r}")
        found.append(commune)
    return found


def _checked_or_existing(obj, label):
    """(the row of this code, False) when the database holds it, else (`obj`, True) once
    checked (`_check`, before the database sees a value it would refuse) and saved."""
    existing = type(obj).objects.filter(code=obj.code).first()
    if existing is not None:
        return existing, False
    _check(obj, label)
    obj.save()
    return obj, True


def _restore_references(document, report):
    User = get_user_model()
    references = _References()
    for quartier in document.quartiers:
        obj, created = _checked_or_existing(
            Quartier(
                code=quartier["code"], nom=quartier["nom"], region=quartier.get("region") or ""
            ),
            f"quartier {quartier['code']!r}",
        )
        references.add(Quartier, quartier.get("id"), obj.code, obj.pk)
        if created:
            obj.communes.set(_restore_communes(quartier.get("communes")))
            report.created_quartiers.append(quartier["code"])
    if not isinstance(document.referentiels, dict):
        raise BackupError("Sauvegarde abîmée : la partie « referentiels » est illisible.")
    for section, rows in document.referentiels.items():
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
            references.add(model, row.get("id"), row[key], obj.pk)
    for account in document.comptes:
        username = account["username"]
        user = User.objects.filter(**{User.USERNAME_FIELD: username}).first()
        if user is None:
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
        references.add(User, account.get("id"), username, user.pk)
    return references


AS_TEXT = {
    "CharField",
    "TextField",
    "SlugField",
    "EmailField",
    "URLField",
    "DateTimeField",
    "DateField",
    "TimeField",
    "DecimalField",
    "UUIDField",
}
AS_NUMBER = {
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "PositiveBigIntegerField",
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
}


def _text(model_field, value):
    return model_field.get_db_prep_save(model_field.to_python(value), connection)


class _Restorer:
    def __init__(self, references, report):
        self.copy = connection.vendor == "postgresql"
        self.references = references
        self.report = report
        self.allowed = set(backed_up_models())
        self.owned = {m for m, _ in owned()}
        self.written = {}  # model -> (lowest, highest) number written

    def run(self, blocks):
        for label, champs, rows in blocks:
            try:
                model = apps.get_model(label)
            except (LookupError, ValueError, TypeError) as error:
                raise BackupError(f"Sauvegarde illisible ou abîmée : {error}") from error
            if model not in self.allowed:
                raise BackupError(f"Sauvegarde illisible ou abîmée : modèle « {label} » inattendu.")
            self._block(model, champs, iter(rows))
        return self.written

    def _block(self, model, champs, rows):
        concrete, m2m = _columns(model)
        by_name = {f.attname: f for f in concrete} | {f.name: f for f in m2m}
        unknown = [name for name in champs if name not in by_name]
        if unknown:
            raise BackupError(
                f"Sauvegarde illisible ou abîmée : champs inconnus de {model._meta.label} : "
                + ", ".join(map(str, unknown))
            )
        position = {name: i for i, name in enumerate(champs)}
        converters = [(f, position.get(f.attname), self._converter(f)) for f in concrete]
        m2m_positions = [(f, position[f.name]) for f in m2m if f.name in position]
        pk = concrete.index(model._meta.pk)
        while batch := list(islice(rows, CHUNK)):
            values, links = [], []
            for row in batch:
                if not isinstance(row, list) or len(row) != len(champs):
                    raise BackupError(
                        f"Sauvegarde illisible ou abîmée : une ligne de {model._meta.label} "
                        "n'a pas le nombre de champs annoncé."
                    )
                try:
                    values.append(
                        [
                            convert(f.get_default() if i is None else row[i])
                            for f, i, convert in converters
                        ]
                    )
                except (ValidationError, ValueError, TypeError, AttributeError) as error:
                    message = getattr(error, "messages", [str(error)])
                    raise BackupError(
                        f"Sauvegarde illisible ou abîmée : {model._meta.label} "
                        f"n° {row[position.get(model._meta.pk.attname, 0)]!r} : "
                        + " ".join(map(str, message))
                    ) from error
                for f, i in m2m_positions:
                    for other in row[i] or []:
                        links.append((f, values[-1][pk], self._resolve(f.related_model, other)))
            self._free_numbers(model, concrete, values, pk)
            self._write(model, concrete, values)
            self._write_links(links)
            pks = [v[pk] for v in values]
            low, high = self.written.get(model, (min(pks), max(pks)))
            self.written[model] = (min(low, *pks), max(high, *pks))
            self.report.count(model, len(values))

    def _resolve(self, model, value):
        if model in self.references.by_old:
            return self.references.resolve(model, value)
        return value

    def _converter(self, model_field):
        """The function from a value of the document to the value written: Python values
        (SQLite: INSERT), or on PostgreSQL values for COPY, whose text the column parses
        (dates, decimals and texts go as written; numbers are checked here)."""
        if model_field.is_relation:
            target = model_field.related_model
            if target in self.references.by_old:
                return lambda value: None if value is _MISSING else self._resolve(target, value)
            target_field = model_field.target_field
            return lambda value: (
                value
                if type(value) is int or value is None
                else None
                if value is _MISSING
                else target_field.to_python(value)
            )
        default = model_field.get_default()
        if not self.copy:
            return lambda value: default if value is _MISSING else model_field.to_python(value)
        kind = model_field.get_internal_type()
        default = model_field.get_db_prep_save(default, connection)
        if kind in AS_TEXT:
            return lambda value: (
                (value if type(value) is str or value is None else _text(model_field, value))
                if value is not _MISSING
                else default
            )
        if kind in AS_NUMBER:
            return lambda value: (
                value
                if type(value) is int or value is None
                else default
                if value is _MISSING
                else model_field.to_python(value)
            )
        if kind == "BooleanField":
            return lambda value: (
                value
                if type(value) is bool or value is None
                else default
                if value is _MISSING
                else model_field.to_python(value)
            )
        return lambda value: (
            default
            if value is _MISSING
            else model_field.get_db_prep_save(model_field.to_python(value), connection)
        )

    def _free_numbers(self, model, concrete, values, pk):
        """The restored rows keep their numbers: none may be taken already, but by the
        history of the same rows (left when the diagnostic was deleted), replaced."""
        taken = model.objects.filter(pk__in=[v[pk] for v in values])
        if not taken.exists():
            return
        if model in self.owned:
            raise _taken(model)
        # a history row: of the same row (`id`); of many-to-many fields: of the same history row
        same = "id" if model._meta.pk.name == "history_id" else "history_id"
        index = [f.attname for f in concrete].index(same)
        expected = {v[pk]: v[index] for v in values}
        existing = list(taken.values_list("pk", same))
        if any(expected[number] != other for number, other in existing):
            raise _taken(model)
        leftovers = model.objects.filter(pk__in=[number for number, _ in existing])
        leftovers._raw_delete(leftovers.db)

    def _write(self, model, concrete, values):
        if connection.vendor == "postgresql":
            import psycopg

            quote = connection.ops.quote_name
            columns = ", ".join(quote(f.column) for f in concrete)
            table = quote(model._meta.db_table)
            try:
                with (
                    connection.cursor() as cursor,
                    cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
                ):
                    for row in values:
                        copy.write_row(row)  # values made for COPY by `_converter`
            except psycopg.Error as error:
                raise BackupError(f"La base a refusé la restauration : {error}") from error
            return
        # Elsewhere, INSERT of the values as they are (bulk_create would date auto_now fields)
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in concrete)
        marks = ", ".join(["%s"] * len(concrete))
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({marks})",
                [
                    [f.get_db_prep_save(v, connection) for f, v in zip(concrete, row, strict=True)]
                    for row in values
                ],
            )

    def _write_links(self, links):
        by_through = {}
        for m2m_field, pk, other in links:
            through = m2m_field.remote_field.through
            by_through.setdefault(through, []).append(
                through(
                    **{
                        m2m_field.m2m_field_name() + "_id": pk,
                        m2m_field.m2m_reverse_field_name() + "_id": other,
                    }
                )
            )
        for through, rows in by_through.items():
            through.objects.bulk_create(rows, batch_size=500)
            self.written.setdefault(through, (0, 0))


def _taken(model):
    return BackupError(
        f"Cette base contient déjà des {model._meta.verbose_name_plural} portant les "
        "numéros de la sauvegarde : restaurez dans une base vide (ou après avoir "
        "supprimé ce diagnostic)."
    )


def _unlink_other_editions(written):
    """What a diagnostic refers to in other editions of its contract (the edition it was
    copied from, the items its items were copied from, the source cells of the imports
    made there) is kept when that row is in this database, emptied otherwise: an edition
    restores on its own. One UPDATE per such field, over the numbers restored (foreign keys
    are checked at the end of the transaction)."""
    owned_models = {model for model, _ in owned()}
    for model, (low, high) in written.items():
        if model not in owned_models:
            continue
        for model_field in model._meta.concrete_fields:
            target = model_field.related_model
            if not (model_field.many_to_one and model_field.null and target in owned_models):
                continue
            dangling = model.objects.filter(
                pk__gte=low, pk__lte=high, **{f"{model_field.attname}__isnull": False}
            ).exclude(Exists(target.objects.filter(pk=OuterRef(model_field.attname))))
            dangling.update(**{model_field.attname: None})


def _reset_sequences(models):
    """Rows were written with their numbers: the next ones must come after (PostgreSQL)."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(models))
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
