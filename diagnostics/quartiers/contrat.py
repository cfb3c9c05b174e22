"""The quartiers of a contract, chosen from the référentiel by its Administrateur.

The quartiers of a contract are those of its latest edition (`quartiers_du_contrat`).
`choisir_quartiers` gives the list to every edition that may still change (brouillon and
publiée), in one transaction: a frozen edition (figée) is an archive and keeps its own.
Removing a quartier is refused while something of those editions still holds it:

- an item tagged with it (a difficulté, an indicateur: the items of `diagnostics.kinds`,
  through their many-to-many field to `Quartier`);
- a value of an item of those editions given for it (an indicator's measures: the values
  of `diagnostics.kinds`, through their foreign key to `Quartier`).

Both are found from the registry of kinds and the models' own fields, so that this module
knows nothing of `indicateurs` (the layers of import-linter) and a new kind of item or value
is taken into account without a change here. The same item or value copied into several
editions counts once (items by lineage, values by lineage and `Kind.compared_key`).

The form carries a state token of the list it showed (`etat_des_quartiers`): a choice made
on a list that someone else changed meanwhile is refused. Each edition whose list changes
gets a row in its history, whose reason names what was added and removed (the contract's
journal of editions shows it).

The search of the référentiel (`chercher_quartiers`) finds a quartier by its code, its name,
or one of its communes (name or code INSEE), accents and case ignored, on SQLite and
PostgreSQL alike, with no stored search column: each word of the query is compared with the
text reduced by the database itself (`Cle`: `lower(unaccent(…))` on PostgreSQL, the site's
`normalize_key`, ligatures spelt out, registered as an SQL function on SQLite).
"""

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.backends.signals import connection_created
from django.db.models import CharField, Exists, F, Func, OuterRef, Prefetch, Q, Subquery, Value
from django.dispatch import receiver

from .. import kinds
from ..access import visible_diagnostics
from ..history.actions import action
from ..models import Commune, Contrat, Diagnostic, Quartier, reason_text
from ..text import normalize_key

Statut = Diagnostic.Statut

STALE_MESSAGE = (
    "La liste des quartiers du contrat a été modifiée depuis l'affichage de cette page : "
    "vérifiez-la ci-dessous, puis recommencez."
)
NO_EDITION = "Ce contrat n'a pas encore d'édition : ses quartiers se choisissent dans une édition."
LATEST_FROZEN = (
    "La dernière édition de ce contrat est figée : commencez une nouvelle édition pour "
    "changer ses quartiers."
)
UNKNOWN_QUARTIER = "Un des quartiers demandés n'existe pas dans le référentiel des quartiers."


# The quartiers of a contract ------------------------------------------------------------------


def _latest(contrat):
    return contrat.editions.order_by("-date_edition", "-pk")


def quartiers_du_contrat(contrat):
    """The quartiers of the contract: those of its latest edition (by date of edition),
    ordered by code; a queryset (one query), empty for a contract without edition."""
    latest = Subquery(_latest(contrat).values("pk")[:1])
    return Quartier.objects.filter(diagnostics=latest).defer("contour").order_by("code")


def editions_modifiables(contrat):
    """The editions whose quartiers follow the contract's: every one but the frozen ones."""
    return contrat.editions.exclude(statut=Statut.FIGE)


def etat_des_quartiers(contrat):
    """The token of the contract's list of quartiers as it stands: it changes when the
    quartiers of an edition that may change, or the set of those editions, change (one
    query). The form sends it back; `choisir_quartiers` compares it."""
    rows = sorted(
        editions_modifiables(contrat).values_list("pk", "quartiers"),
        key=lambda row: (row[0], row[1] or 0),
    )
    text = ";".join(f"{edition}:{quartier or ''}" for edition, quartier in rows)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass
class Choix:
    """What `choisir_quartiers` did."""

    ajoutes: list = field(default_factory=list)  # Quartier, by code
    retires: list = field(default_factory=list)
    editions: list = field(default_factory=list)  # the editions that follow the list
    figees: list = field(default_factory=list)  # the frozen editions, which keep theirs

    @property
    def change(self):
        return bool(self.ajoutes or self.retires)


def choisir_quartiers(contrat, quartiers, user, etat=None):
    """Give the contract the quartiers `quartiers` (Quartier objects or their ids): every
    edition that may change gets them; the frozen editions keep theirs.

    Refused (French ValidationError, nothing written): a contract without edition or whose
    latest edition is frozen, a quartier unknown to the référentiel, a stale `etat` (the
    token of `etat_des_quartiers` the form showed, when given), or the removal of a quartier
    that an item or a value of those editions still holds. Returns a `Choix`.
    """
    wanted = {getattr(quartier, "pk", quartier) for quartier in quartiers}
    with transaction.atomic(), action():
        # One choice at a time per contract: the second waits, then sees the first's list.
        Contrat.objects.select_for_update().filter(pk=contrat.pk).first()
        if etat is not None and etat != etat_des_quartiers(contrat):
            raise ValidationError(STALE_MESSAGE, code="stale")
        editions = list(
            contrat.editions.prefetch_related(
                Prefetch("quartiers", queryset=Quartier.objects.defer("contour"))
            ).order_by("date_edition", "pk")
        )
        if not editions:
            raise ValidationError(NO_EDITION, code="sans_edition")
        latest = max(editions, key=lambda edition: (edition.date_edition, edition.pk))
        if latest.est_figee:
            raise ValidationError(LATEST_FROZEN, code="figee")
        found = Quartier.objects.defer("contour").in_bulk(wanted)
        if len(found) != len(wanted):
            raise ValidationError(UNKNOWN_QUARTIER, code="inconnu")
        modifiables = [edition for edition in editions if not edition.est_figee]
        held = {quartier.pk: quartier for e in modifiables for quartier in e.quartiers.all()}
        removed = sorted(set(held) - wanted)
        refusals = _holders(modifiables, removed)
        if refusals:
            raise ValidationError(
                [_refusal(held[pk], refusals[pk]) for pk in removed if pk in refusals],
                code="retenu",
            )
        before = {quartier.pk for quartier in latest.quartiers.all()}
        names = held | found
        for edition in modifiables:
            _give(edition, wanted, names, user)
    return Choix(
        ajoutes=sorted((found[pk] for pk in wanted - before), key=_by_code),
        retires=sorted((held[pk] for pk in before - wanted), key=_by_code),
        editions=modifiables,
        figees=[edition for edition in editions if edition.est_figee],
    )


def _by_code(quartier):
    return quartier.code


def _give(edition, wanted, names, user):
    """The edition gets the quartiers `wanted`, with a history row naming the change
    (`names`: {id: Quartier} of every quartier concerned)."""
    current = {quartier.pk for quartier in edition.quartiers.all()}
    added, removed = wanted - current, current - wanted
    if not added and not removed:
        return
    if removed:
        edition.quartiers.remove(*removed)
    if added:
        edition.quartiers.add(*added)
    parts = []
    if added:
        parts.append("ajout de " + ", ".join(sorted(names[pk].code for pk in added)))
    if removed:
        parts.append("retrait de " + ", ".join(sorted(names[pk].code for pk in removed)))
    edition._history_user = user
    edition._change_reason = reason_text(f"Quartiers : {' ; '.join(parts)}")
    edition.save(update_fields=["updated_at"])


# What still holds a quartier in some editions ---------------------------------------------


def _quartier_fields(model, *, many):
    """The names of the fields of `model` that point to Quartier (many-to-many or not)."""
    return [
        f
        for f in model._meta.get_fields()
        if f.concrete
        and f.related_model is Quartier
        and (f.many_to_many if many else f.many_to_one)
    ]


def _holders(editions, quartier_ids):
    """{quartier id: [(Kind, number)]}: the items tagged with, and the values given for,
    each of these quartiers in these editions; one query per kind of item and of value."""
    found = {}
    if not quartier_ids or not editions:
        return found
    edition_ids = [edition.pk for edition in editions]

    def count(kind, rows):
        distinct = {}
        for quartier_id, *key in set(rows):
            distinct.setdefault(quartier_id, set()).add(tuple(key))
        for quartier_id, keys in distinct.items():
            found.setdefault(quartier_id, []).append((kind, len(keys)))

    for kind in kinds.items():
        for m2m in _quartier_fields(kind.model, many=True):
            through = m2m.remote_field.through
            item, target = m2m.m2m_field_name(), m2m.m2m_reverse_field_name()
            rows = through.objects.filter(
                **{f"{item}__diagnostic_id__in": edition_ids, f"{target}_id__in": quartier_ids}
            ).values_list(f"{target}_id", f"{item}__lignee")
            count(kind, rows)
    for kind in kinds.values():
        key = list(kind.compared_key) or ["pk"]
        for fk in _quartier_fields(kind.model, many=False):
            rows = kind.model.objects.filter(
                **{
                    f"{kind.parent}__diagnostic_id__in": edition_ids,
                    f"{fk.name}_id__in": quartier_ids,
                }
            ).values_list(f"{fk.name}_id", f"{kind.parent}__lignee", *key)
            count(kind, rows)
    order = kinds.all_kinds()
    return {pk: sorted(held, key=lambda pair: -order.index(pair[0])) for pk, held in found.items()}


def _join(parts):
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} et {parts[-1]}"


def _refusal(quartier, held):
    """ "Le quartier Fontbouillant (QN00305M) ne peut pas être retiré : 3 valeurs
    d'indicateurs et 2 difficultés s'y rapportent encore … Retirez-les d'abord …" """
    what = _join([kind.nom.compte(number) for kind, number in held])
    if sum(number for _, number in held) == 1:
        verb, them = "s'y rapporte", "la" if held[0][0].nom.feminin else "le"
    else:
        verb, them = "s'y rapportent", "les"
    return (
        f"Le quartier {quartier.nom} ({quartier.code}) ne peut pas être retiré : {what} "
        f"{verb} encore dans les éditions qui ne sont pas figées. Retirez-{them} d'abord "
        f"(ou rattachez-{them} à un autre quartier), puis retirez le quartier."
    )


# The search of the référentiel ------------------------------------------------------------

SEARCH_MAX_LENGTH = 100
SEARCH_MAX_WORDS = 8
SEARCH_LIMIT = 50
SQLITE_FUNCTION = "contrat_ville_cle"
_WORD = re.compile(r"[^\W_]+")


class RechercheInvalide(ValueError):
    """A query that cannot be searched, with the French reason."""


class Cle(Func):
    """The comparison key of a text computed by the database: accents removed, case folded
    (`_fold` on SQLite, `lower(unaccent(…))` on PostgreSQL, whose extension `unaccent`
    migration 0003 installs)."""

    function = SQLITE_FUNCTION
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="lower(unaccent((%(expressions)s)::text))",
            **extra_context,
        )

    def as_sql(self, compiler, connection, **extra_context):
        if connection.vendor == "sqlite":
            _register(connection)
        return super().as_sql(compiler, connection, **extra_context)


class CleDuMot(Cle):
    """The key of a word of a query, already reduced by `_fold` in Python: left as it is
    on SQLite (no call per row), reduced again on PostgreSQL (harmless, and the same
    reduction as its column's)."""

    def as_sqlite(self, compiler, connection, **extra_context):
        return compiler.compile(self.get_source_expressions()[0])


def _fold(text):
    """`normalize_key`, with the ligatures spelt out as PostgreSQL's `unaccent` does:
    "Cœur" and "coeur" give "coeur"."""
    return normalize_key(text or "").replace("œ", "oe").replace("æ", "ae")


@lru_cache(maxsize=16384)
def _key(text):
    """`_fold`, remembered: the référentiel's names (about 1 600 quartiers and as many
    communes) are reduced once per process, not once per row of every search."""
    return _fold(text)


def _register(connection):
    """Register the SQL function on this SQLite connection (once per database connection:
    Django may reconnect, so the underlying connection is remembered)."""
    connection.ensure_connection()
    if getattr(connection, "_contrat_ville_cle", None) is not connection.connection:
        connection.connection.create_function(SQLITE_FUNCTION, 1, _key, deterministic=True)
        connection._contrat_ville_cle = connection.connection


@receiver(connection_created)
def _on_connection_created(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        _register(connection)


def mots_de_recherche(query):
    """The words of a query (letters and digits only, accents and case folded), or
    `RechercheInvalide` when it is too long."""
    query = query or ""
    if len(query) > SEARCH_MAX_LENGTH:
        raise RechercheInvalide(
            f"Votre recherche est trop longue : {SEARCH_MAX_LENGTH} caractères au plus."
        )
    return list(dict.fromkeys(_WORD.findall(_fold(query))))[:SEARCH_MAX_WORDS]


def chercher_quartiers(query, limit=SEARCH_LIMIT):
    """(the quartiers of the référentiel matching `query`, at most `limit`, by name then
    code, with their communes; whether there are more). Every word of the query must be
    found in the quartier's code or name, or in one of its communes' names, or begin one
    of its communes' codes INSEE. Two queries, whatever the size of the référentiel."""
    words = mots_de_recherche(query)
    if not words:
        return [], False
    queryset = Quartier.objects.defer("contour").annotate(cle_nom=Cle(F("nom")))
    for word in words:
        key = CleDuMot(Value(word))
        commune = Commune.objects.annotate(cle=Cle(F("nom"))).filter(
            Q(cle__contains=key) | Q(code__startswith=word),
            quartiers=OuterRef("pk"),
        )
        queryset = queryset.filter(
            Q(cle_nom__contains=key) | Q(code__icontains=word) | Exists(commune)
        )
    found = list(queryset.order_by("nom", "code").prefetch_related("communes")[: limit + 1])
    return found[:limit], len(found) > limit


def autres_contrats(quartiers, contrat, user):
    """{quartier id: [Contrat]}: the other contracts that hold each of these quartiers in an
    edition `user` may read (never a contract, or an edition, they may not); one query."""
    through = Diagnostic.quartiers.through
    rows = (
        through.objects.filter(
            quartier_id__in=[quartier.pk for quartier in quartiers],
            diagnostic__in=visible_diagnostics(user),
        )
        .exclude(diagnostic__contrat_id=contrat.pk)
        .values_list("quartier_id", "diagnostic__contrat_id", "diagnostic__contrat__nom")
        .distinct()
        .order_by("diagnostic__contrat__nom")
    )
    found = {}
    for quartier_id, contrat_id, nom in rows:
        contracts = found.setdefault(quartier_id, [])
        if all(other.pk != contrat_id for other in contracts):
            contracts.append(Contrat(pk=contrat_id, nom=nom))
    return found
