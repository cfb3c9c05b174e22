"""The fiche quartier: everything an edition of a diagnostic says about one of its
quartiers, gathered in a fixed number of queries whatever the number of indicators,
measures and difficultés.

- `quartier_of` finds the quartier of the URL among the edition's: those it names
  (`Diagnostic.quartiers`) and those its items are tagged with (an item may keep a
  quartier the contract no longer names: its badge still leads somewhere);
- `difficultes_of` gives the difficultés tagged with it, by pilier > thème > sous-thème,
  and `territoire_count` the number of those of the whole territory (tagged with none);
- `indicator_rows` gives each indicator's latest value for this quartier with its change,
  its status against the quartier's own target and its gap to a comparison territory
  (`indicateurs.tableau.rows_of` in the quartier's scope);
- `charts_of` gives, for each quantitative indicator, the quartier's series as a chart and
  a table (`indicateurs.charts`), with the quartier's own reference and target as lines;
- `autres_contrats` lists the other contracts the user may read whose editions hold it.

Secret statistique (`indicateurs.secret`): the secrecy of a value is decided on its
whole group (the territory and every quartier of its period), read for every indicator
at once: a value hidden on the tableau de bord is hidden here, and what this page shows
never lets a hidden value be computed back.
"""

import re
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q
from django.urls import reverse

from diagnostics import kinds
from diagnostics.access import visible_diagnostics
from diagnostics.models import QPV_CODE, Diagnostic, Difficulte, Quartier
from diagnostics.quartiers.carte import Zone, dessiner
from diagnostics.queries import fiche_url_maker

from . import charts, secret, tableau
from .models import Indicateur, Mesure, series

CODE = re.compile(QPV_CODE)


# The quartier of the page -----------------------------------------------------------------


def quartier_of(diagnostic, code):
    """The quartier of this code among the edition's (named by it, or tagging one of its
    items), with its communes; None when there is none (a malformed code included): one
    query, two with the communes."""
    if not isinstance(code, str) or not CODE.fullmatch(code):
        return None
    named = Diagnostic.quartiers.through.objects.filter(
        diagnostic=diagnostic, quartier_id=OuterRef("pk")
    )
    in_edition = Q(Exists(named))
    for kind in kinds.items():
        item = kind.model.quartiers.field.m2m_field_name()
        tags = kind.model.quartiers.through.objects.filter(
            quartier_id=OuterRef("pk"), **{f"{item}__diagnostic": diagnostic}
        )
        in_edition |= Q(Exists(tags))
    return Quartier.objects.filter(in_edition, code=code).prefetch_related("communes").first()


def fiche_url(diagnostic, quartier):
    return reverse("fiche_quartier", args=[diagnostic.slug, quartier.code])


# Difficultés ------------------------------------------------------------------------------


@dataclass
class Groupe:
    """A level of the tree of difficultés: a pilier, a thème or a sous-thème (None: the
    thème's own level), with what hangs under it."""

    niveau: object
    enfants: list = field(default_factory=list)  # [Groupe], or [Difficulte] for the last


def _tags(model, **filters):
    """The quartier tags of the outer item of `model` (a kind of item)."""
    item = model.quartiers.field.m2m_field_name()
    return model.quartiers.through.objects.filter(**{item: OuterRef("pk")}, **filters)


def _tagged_with(model, quartier):
    return Exists(_tags(model, quartier=quartier))


def _untagged(model):
    return ~Exists(_tags(model))


def difficultes_of(diagnostic, quartier):
    """[Groupe of a pilier > Groupe of a thème > Groupe of a sous-thème (None first: the
    thème's own level) > difficultés], in the order of the diagnostic: those tagged with
    the quartier. One query."""
    difficultes = (
        Difficulte.objects.du_diagnostic(diagnostic)
        .filter(_tagged_with(Difficulte, quartier))
        .select_related("sous_theme__theme__pilier", "theme__pilier")
        .defer("created_at", "updated_at")
    )

    def place(difficulte):
        theme, sous_theme = difficulte.theme_effectif, difficulte.sous_theme
        return (
            theme.pilier.numero,
            theme.position,
            theme.pk,
            (1, sous_theme.position, sous_theme.pk) if sous_theme else (0,),
            difficulte.position,
            difficulte.pk,
        )

    piliers = {}
    for difficulte in sorted(difficultes, key=place):
        theme = difficulte.theme_effectif
        pilier = piliers.setdefault(theme.pilier.pk, Groupe(theme.pilier))
        if not pilier.enfants or pilier.enfants[-1].niveau.pk != theme.pk:
            pilier.enfants.append(Groupe(theme))
        themes = pilier.enfants[-1]
        sous_theme = difficulte.sous_theme if difficulte.sous_theme_id else None
        if not themes.enfants or themes.enfants[-1].niveau != sous_theme:
            themes.enfants.append(Groupe(sous_theme))
        themes.enfants[-1].enfants.append(difficulte)
    return list(piliers.values())


def count(piliers):
    """The number of difficultés of a tree of `difficultes_of`."""
    return sum(len(groupe.enfants) for p in piliers for t in p.enfants for groupe in t.enfants)


def territoire_count(diagnostic):
    """The number of difficultés of the edition tagged with no quartier: they concern the
    whole territory, this quartier included. One query."""
    return Difficulte.objects.du_diagnostic(diagnostic).filter(_untagged(Difficulte)).count()


def liste_url(diagnostic, quartier):
    """The list of the difficultés of the quartier and of the whole territory."""
    return (
        f"{reverse('diagnostics:difficultes')}?diagnostic={diagnostic.slug}"
        f"&quartier={quartier.code}"
    )


# Indicators -------------------------------------------------------------------------------


def indicateurs_of(diagnostic, quartier):
    """The edition's indicators in the order of the diagnostic, with their thème and
    pilier, each with `concerne`: whether it is tagged with the quartier. One query."""
    indicateurs = (
        Indicateur.objects.du_diagnostic(diagnostic)
        .select_related("sous_theme__theme__pilier", "theme__pilier")
        .annotate(concerne=_tagged_with(Indicateur, quartier))
        .defer("created_at", "updated_at")
    )
    indicateurs = sorted(indicateurs, key=tableau.place_in_diagnostic)
    for indicateur in indicateurs:
        indicateur.diagnostic = diagnostic
    return indicateurs


def indicator_rows(indicateurs, quartier, user, comparaison=None):
    """(rows shown, number of indicators left out): the row of each indicator
    (`tableau.Ligne`) in the quartier's scope that has something for it (a value, a
    reference or a target of the quartier) or is tagged with it; the others are only
    counted. Three to five queries, none without indicators."""
    rows = tableau.rows_of(indicateurs, quartier, user, comparaison=comparaison)
    shown = [
        row
        for row in rows
        if row.indicateur.concerne
        or row.portee.derniere
        or row.portee.reference
        or row.portee.cible
    ]
    return shown, len(rows) - len(shown)


@dataclass
class Graphique:
    """The quartier's series of one indicator: its chart (may be "" when every value is
    hidden) and the data of its table."""

    indicateur: Indicateur
    donnees: charts.Donnees
    svg: str
    ident: str


REPERES_DU_QUARTIER = (
    (Mesure.Nature.REFERENCE, "#4b5563", "6 4", "Référence du quartier ({})"),
    (Mesure.Nature.CIBLE, "#1c2430", "2 4", "Cible du quartier {}"),
)


def charts_of(indicateurs, quartier, user):
    """{indicator pk: Graphique} for the quantitative indicators that have values for the
    quartier: its series only, with its own reference and target as lines. The measures
    of the territory and of every quartier are read (one query for all indicators) so
    that the secret is decided on whole groups."""
    numeriques = [i for i in indicateurs if i.type != Indicateur.Type.QUALITATIF]
    found = series(
        numeriques,
        reperes=True,
        queryset=Mesure.objects.filter(territoire__isnull=True).defer(
            "created_at", "updated_at", "commentaire", "saisi_par"
        ),
    )
    graphiques = {}
    for indicateur in numeriques:
        mesures = found.get(indicateur.pk, [])
        du_quartier = [m for m in mesures if m.quartier_id == quartier.pk]
        valeurs = [
            m for m in du_quartier if m.nature == Mesure.Nature.VALEUR and m.valeur is not None
        ]
        if not valeurs:
            continue
        for mesure in du_quartier:
            mesure.quartier = quartier  # the series' label, without reading it again
        hidden = secret.Secret(indicateur, mesures, user)
        donnees = charts.chart_data(indicateur, valeurs, hidden)
        donnees.reperes = _reperes(du_quartier, hidden)
        ident = f"graphique-{indicateur.pk}"
        graphiques[indicateur.pk] = Graphique(
            indicateur, donnees, charts.chart(donnees, ident=ident), ident
        )
    return graphiques


def _reperes(mesures, hidden):
    """The quartier's latest reference and target as lines of its chart (a reference the
    secret hides is left out)."""
    reperes = []
    for nature, couleur, tirets, nom in REPERES_DU_QUARTIER:
        repere = tableau.latest_of([m for m in mesures if m.nature == nature])
        if repere is not None and repere.valeur is not None and not hidden.hides(repere):
            libelle = f"{nom.format(repere.periode_libelle)} : {hidden.show(repere)}"
            reperes.append(charts.Repere(repere.valeur, libelle, couleur, tirets))
    return reperes


# Other contracts --------------------------------------------------------------------------


@dataclass
class AutreContrat:
    contrat: object
    diagnostic: Diagnostic  # its latest edition the user may read that holds the quartier
    url: str


def autres_contrats(diagnostic, quartier, user):
    """The other contracts holding this quartier in an edition the user may read, each
    with the fiche of the quartier in its latest such edition. One query."""
    editions = (
        visible_diagnostics(user)
        .filter(quartiers=quartier)
        .exclude(contrat_id=diagnostic.contrat_id)
        .select_related("contrat")
        .order_by("contrat__nom", "contrat_id", "-date_edition", "-pk")
    )
    autres = {}
    for edition in editions:
        if edition.contrat_id not in autres:
            autres[edition.contrat_id] = AutreContrat(
                edition.contrat, edition, fiche_url(edition, quartier)
            )
    return list(autres.values())


# The map --------------------------------------------------------------------------------


def carte_of(diagnostic, quartier):
    """The map of the edition's quartiers, this one highlighted, each linked to its own
    fiche (`diagnostics.quartiers.carte`); None when no outline can be drawn. Two
    queries: the quartiers and their communes."""
    url = fiche_url_maker(diagnostic.slug)
    quartiers = list(diagnostic.quartiers.prefetch_related("communes").order_by("code"))
    if all(q.pk != quartier.pk for q in quartiers):
        quartiers.append(quartier)
    zones = [
        Zone(q if q.pk != quartier.pk else quartier, url=url(q.code), actif=q.pk == quartier.pk)
        for q in quartiers
    ]
    return dessiner(
        zones,
        titre=f"Carte des quartiers prioritaires de {diagnostic.territoire} : {quartier.nom}",
        ident="carte-quartier",
    )
