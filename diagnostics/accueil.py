"""The home page: each user's contracts, with the key figures of their editions.

- a member sees the contracts where they hold a role (their role named), the national
  administrator every contract, anyone else the contracts of the public editions;
- for each contract: its current edition (the latest published one, else the latest
  frozen one) and, for those who read drafts, its draft; the other editions are reached
  through the contract's page;
- for each edition shown: the number of piliers, of each kind of item (the registry,
  `diagnostics.kinds`: difficultés, indicateurs…) and of quartiers, its last change (date
  and author, from the history of its levels, items and values), its last import and
  its piliers.

What an edition shows is what `visible_diagnostics` lets the user read: the one access
rule of the site. `contracts_for(user)` runs a fixed number of queries whatever the number
of contracts and editions (five, after the user's roles).
"""

from dataclasses import dataclass, field

from django.db.models import CharField, Count, F, IntegerField, Max, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from comptes.roles import ADMINISTRE, LIT_LES_BROUILLONS, MODIFIE, Role, holds, is_national_admin

from . import kinds
from .access import roles_by_contract, visible_contrats, visible_diagnostics
from .history.reading import author
from .models import Contrat, Diagnostic, Import, Pilier

NATIONAL_ADMIN = "Administration nationale"


@dataclass
class Chiffre:
    """One key figure of an edition: "Difficultés prégnantes: 39"."""

    libelle: str
    nombre: int


@dataclass
class Modification:
    """The latest change of an edition: when, by whom ("" when the history does not say),
    and the file of the import that wrote it ("" for a change made on the site)."""

    date: object
    auteur: str = ""
    fichier: str = ""


@dataclass
class EditionAccueil:
    """An edition as the home page shows it."""

    diagnostic: Diagnostic
    chiffres: list = field(default_factory=list)
    piliers: list = field(default_factory=list)  # its piliers, in order (links to their pages)
    derniere_modification: Modification | None = None
    dernier_import: Import | None = None


@dataclass
class ContratAccueil:
    """A contract as the home page shows it, with what the user may do on it."""

    contrat: Contrat
    role: str = ""  # the user's role(s) on it, as the interface names them ("" if none)
    courante: EditionAccueil | None = None  # the edition everyone reads
    brouillon: EditionAccueil | None = None  # the draft, for those who read drafts
    autres_editions: int = 0  # the other editions the user reads (on the contract's page)
    modifie: bool = False
    administre: bool = False

    @property
    def editions(self):
        return [edition for edition in (self.courante, self.brouillon) if edition is not None]


@dataclass
class Accueil:
    contrats: list
    membre: bool  # holds a role on some contract (or is the national administrator)


def _count(queryset, path="diagnostic"):
    """The number of rows of `queryset` whose `path` is the outer diagnostic, as a
    subquery (0 when there are none)."""
    rows = (
        queryset.filter(**{path: OuterRef("pk")})
        .order_by()
        .values(path)
        .annotate(nombre=Count("pk"))
        .values("nombre")
    )
    return Coalesce(Subquery(rows[:1], output_field=IntegerField()), 0)


def _counted_kinds():
    """[(annotation name, label, queryset, path)] of what an edition counts: its piliers,
    each kind of item of the registry, its quartiers."""
    pilier = kinds.get("pilier")
    counted = [("nombre_piliers", pilier.titre, pilier.model.objects.all(), "diagnostic")]
    for kind in kinds.items():
        counted.append((f"nombre_{kind.key}", kind.titre, kind.model.objects.all(), "diagnostic"))
    counted.append(
        ("nombre_quartiers", "Quartiers", Diagnostic.quartiers.through.objects.all(), "diagnostic")
    )
    return counted


def _history_paths():
    """[(history model, path to the diagnostic)] of every kind whose changes are an
    edition's: its levels and items (each row carries its diagnostic), their values
    (through their item)."""
    paths = [(kind.model.history.model, "diagnostic_id") for kind in kinds.structure()]
    for kind in kinds.values():
        history = getattr(kind.model, "history", None)
        if history is not None:
            paths.append((history.model, f"{kind.parent}__diagnostic_id"))
    return paths


def last_changes(diagnostic_ids):
    """{diagnostic id: Modification} of the latest history row of each edition, over every
    kind of level, item and value: one query (a UNION of the latest row of each kind)."""
    selects = []
    for model, path in _history_paths():
        latest = (
            model.objects.filter(**{f"{path}__in": diagnostic_ids})
            .order_by()
            .values(path)
            .annotate(dernier=Max("history_id"))
            .values("dernier")
        )
        has_links = any(field.name == "import_source" for field in model._meta.get_fields())
        fichier = F("import_source__nom_fichier") if has_links else Value("", CharField())
        selects.append(
            model.objects.filter(history_id__in=Subquery(latest))
            .annotate(edition=F(path), fichier=Coalesce(fichier, Value("", CharField())))
            .values_list(
                "edition",
                "history_date",
                "history_user__first_name",
                "history_user__last_name",
                "history_user__username",
                "fichier",
            )
            .order_by()
        )
    found = {}
    for edition, date, first_name, last_name, username, fichier in selects[0].union(
        *selects[1:], all=True
    ):
        if edition in found and found[edition].date >= date:
            continue
        found[edition] = Modification(
            date=date,
            auteur=author(first_name, last_name, username) if username else "",
            fichier=fichier or "",
        )
    return found


def last_imports(diagnostic_ids):
    """{diagnostic id: its latest Import}: one query."""
    latest = (
        Import.objects.filter(diagnostic__in=diagnostic_ids)
        .order_by()
        .values("diagnostic")
        .annotate(dernier=Max("pk"))
        .values("dernier")
    )
    return {record.diagnostic_id: record for record in Import.objects.filter(pk__in=latest)}


def _current(editions):
    """The edition a contract is read in: its latest published edition, else its latest
    frozen one (None if the user reads no such edition)."""
    published = [edition for edition in editions if not edition.est_brouillon]
    if not published:
        return None
    return max(
        published,
        key=lambda edition: (
            edition.statut == Diagnostic.Statut.PUBLIE,
            edition.date_edition,
            edition.pk,
        ),
    )


def _role_name(roles):
    return ", ".join(role.value for role in Role if role in roles)


def contracts_for(user):
    """The home page of `user`: their contracts (see the module's docstring)."""
    national = is_national_admin(user)
    roles = {} if national else roles_by_contract(user)
    if national:
        contrats = Contrat.objects.all()
    elif roles:
        contrats = Contrat.objects.filter(pk__in=set(roles))
    else:
        contrats = visible_contrats(user)
    contrats = list(contrats.order_by("nom", "pk"))

    counted = _counted_kinds()
    editions = (
        visible_diagnostics(user)
        .filter(contrat__in=[contrat.pk for contrat in contrats])
        .annotate(**{name: _count(queryset, path) for name, _, queryset, path in counted})
        .order_by("date_edition", "pk")
    )
    by_contract = {}
    for edition in editions:
        by_contract.setdefault(edition.contrat_id, []).append(edition)

    result = []
    for contrat in contrats:
        editions = by_contract.get(contrat.pk, [])
        held = frozenset(Role) if national else roles.get(contrat.pk, frozenset())
        courante = _current(editions)
        brouillon = None
        if holds(held, LIT_LES_BROUILLONS):
            brouillon = next((edition for edition in editions if edition.est_brouillon), None)
        shown = [edition for edition in (courante, brouillon) if edition is not None]
        result.append(
            ContratAccueil(
                contrat=contrat,
                role=NATIONAL_ADMIN if national else _role_name(held),
                courante=_shown(courante, counted),
                brouillon=_shown(brouillon, counted),
                autres_editions=len(editions) - len(shown),
                modifie=holds(held, MODIFIE),
                administre=holds(held, ADMINISTRE),
            )
        )

    shown = [edition for contrat in result for edition in contrat.editions]
    if shown:
        ids = [edition.diagnostic.pk for edition in shown]
        changes, imports = last_changes(ids), last_imports(ids)
        piliers = {}
        for pilier in Pilier.objects.filter(diagnostic__in=ids).order_by("diagnostic", "numero"):
            piliers.setdefault(pilier.diagnostic_id, []).append(pilier)
        for edition in shown:
            edition.derniere_modification = changes.get(edition.diagnostic.pk)
            edition.dernier_import = imports.get(edition.diagnostic.pk)
            edition.piliers = piliers.get(edition.diagnostic.pk, [])
    return Accueil(contrats=result, membre=national or bool(roles))


def _shown(diagnostic, counted):
    if diagnostic is None:
        return None
    return EditionAccueil(
        diagnostic=diagnostic,
        chiffres=[Chiffre(label, getattr(diagnostic, name)) for name, label, _, _ in counted],
    )
