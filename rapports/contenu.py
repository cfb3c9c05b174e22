"""The parts of a report generated from the diagnostic and its indicators, as blocks
(`rapports.blocs`), kept up to date until the report is adopted, then frozen
(`Rapport.contenu_fige`).

- `evolution`: for each pilier, its difficultés prégnantes and, for each indicator, its
  latest value (up to the report's year) for the whole territory, each quartier and the
  comparison territories, the change over one year and since the reference, the target of
  the same scope, the status (`indicateurs.tableau`), and its chart.
- `changements`: what changed in the diagnostic during the year: the editions started,
  published or frozen, the changes made in the editions (from their history), and when a
  revision started an edition, what it changed from the one before
  (`diagnostics.editions.diff`).

The secret statistique is applied as for a partner, always (`LECTEUR`): the report is
sent to the consulted bodies and published, whoever generates it.
"""

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Exists, OuterRef, Q

from diagnostics import kinds
from diagnostics.editions import diff
from diagnostics.models import Diagnostic, Difficulte
from indicateurs import charts, secret, tableau
from indicateurs.models import Indicateur, Mesure, series

from . import blocs

# Who the generated parts are written for: a reader who sees no secret value.
LECTEUR = AnonymousUser()

TERRITOIRE = "Ensemble du territoire"
ENTETES_INDICATEUR = (
    "Territoire",
    "Dernière valeur",
    "Période",
    "Évolution sur un an",
    "Évolution depuis la référence",
    "Cible",
    "Statut",
)
CHANGEMENTS_MAX = 200  # rows of the table of a revision's changes


def edition_du_rapport(contrat, annee=None):
    """The edition a report reads: the contract's latest published or frozen edition
    (what partners read), else its latest edition; None when it has none."""
    editions = Diagnostic.objects.filter(contrat=contrat).order_by("-date_edition", "-pk")
    if annee is not None:
        editions = editions.filter(date_edition__year__lte=annee) or editions
    return editions.filter(statut__in=Diagnostic.STATUTS_PUBLICS).first() or editions.first()


# The evolution of the quartiers ---------------------------------------------------------


def evolution(edition, annee):
    """The blocks of the evolution of the quartiers (see the module's documentation)."""
    if edition is None:
        return [blocs.paragraphe("Le contrat n'a pas encore de diagnostic.")]
    quartiers = list(edition.quartiers.order_by("nom"))
    indicateurs = sorted(
        Indicateur.objects.du_diagnostic(edition)
        .select_related("sous_theme__theme__pilier", "theme__pilier")
        .defer("created_at", "updated_at"),
        key=tableau.place_in_diagnostic,
    )
    for indicateur in indicateurs:
        indicateur.diagnostic = edition
    difficultes = _difficultes_par_pilier(edition)
    piliers = {}
    for indicateur in indicateurs:
        pilier = indicateur.theme_effectif.pilier
        piliers.setdefault(pilier.pk, (pilier, []))[1].append(indicateur)
    for pilier in edition.piliers.order_by("numero"):
        piliers.setdefault(pilier.pk, (pilier, []))
    ordre = sorted(piliers.values(), key=lambda entry: entry[0].numero)

    scopes = [None, *quartiers]
    lignes, comparaisons, graphiques = _lire(indicateurs, scopes, annee)

    out = [
        blocs.paragraphe(
            f"Diagnostic « {edition.nom_edition} » ; valeurs connues jusqu'en {annee}. "
            f"Quartiers prioritaires : "
            + (", ".join(f"{q.nom} ({q.code})" for q in quartiers) or "aucun")
            + "."
        ),
        blocs.note(
            "Les valeurs sous le seuil du secret statistique, et celles qui permettraient "
            "de les retrouver, sont remplacées par « secret »."
        ),
    ]
    for pilier, inds in ordre:
        out.append(blocs.titre(2, f"Pilier {pilier.numero} : {pilier.libelle}"))
        siennes = difficultes.get(pilier.pk, [])
        if siennes:
            out.append(blocs.titre(3, "Difficultés prégnantes"))
            out.append(blocs.liste(siennes))
        if not inds:
            out.append(blocs.paragraphe("Aucun indicateur n'est rattaché à ce pilier."))
            continue
        sans_valeur = []
        for indicateur in inds:
            parties = _indicateur(indicateur, scopes, lignes, comparaisons, graphiques)
            if parties:
                out += parties
            else:
                sans_valeur.append(indicateur.libelle)
        if sans_valeur:
            out.append(blocs.titre(3, f"Indicateurs sans valeur connue en {annee}"))
            out.append(blocs.liste(sans_valeur))
    return out


def _difficultes_par_pilier(edition):
    """{pilier pk: [libellé, with its quartiers]} in the order of the diagnostic."""
    difficultes = (
        Difficulte.objects.du_diagnostic(edition)
        .select_related("sous_theme__theme__pilier", "theme__pilier")
        .prefetch_related("quartiers")
        .defer("created_at", "updated_at")
    )
    found = {}
    for difficulte in sorted(difficultes, key=tableau.place_in_diagnostic):
        noms = sorted(q.nom for q in difficulte.quartiers.all())
        libelle = difficulte.libelle + (f" ({', '.join(noms)})" if noms else "")
        found.setdefault(difficulte.theme_effectif.pilier_id, []).append(libelle)
    return found


def _lire(indicateurs, scopes, annee):
    """Everything the evolution shows, from one query: every measure of the indicators'
    lineages up to the year (targets whatever their year), for the whole territory, each
    quartier and the comparison territories. The secret is decided on all of them (whole
    groups), as a partner sees them. Returns:
    - {scope pk (None: the territory): {indicator pk: tableau.Ligne}};
    - {indicator pk: [(comparison territory, value shown, period)]};
    - {indicator pk: (charts.Donnees, svg)} of the quantitative indicators with values."""
    found = series(
        indicateurs,
        reperes=True,
        queryset=Mesure.objects.filter(Q(annee__lte=annee) | Q(nature=Mesure.Nature.CIBLE))
        .select_related("quartier", "territoire")
        .defer("created_at", "updated_at", "commentaire", "saisi_par"),
    )
    lignes = {(q.pk if q else None): {} for q in scopes}
    comparaisons, graphiques = {}, {}
    for indicateur in indicateurs:
        mesures = found.get(indicateur.pk, [])
        hidden = secret.Secret(indicateur, mesures, LECTEUR)
        by_scope, by_territoire = {}, {}
        for mesure in mesures:
            if mesure.territoire_id is not None:
                if mesure.nature == Mesure.Nature.VALEUR:
                    by_territoire.setdefault(mesure.territoire, []).append(mesure)
                continue
            natures = by_scope.setdefault(mesure.quartier_id, {n: [] for n in Mesure.Nature.values})
            natures[mesure.nature].append(mesure)
        for quartier in scopes:
            pk = quartier.pk if quartier else None
            natures = by_scope.get(pk, {n: [] for n in Mesure.Nature.values})
            derniere, precedente = tableau.latest_pair(natures[Mesure.Nature.VALEUR], indicateur)
            portee = tableau.Portee(
                derniere,
                precedente,
                tableau.latest_of(natures[Mesure.Nature.REFERENCE]),
                tableau.latest_of(natures[Mesure.Nature.CIBLE]),
                secret=hidden,
            )
            lignes[pk][indicateur.pk] = tableau.row_of(indicateur, portee, quartier)
        derniere = lignes[None][indicateur.pk].derniere
        if derniere is not None:
            periode = (derniere.annee, derniere.type_periode, derniere.numero_periode)
            for territoire in sorted(by_territoire, key=tableau.serie_key):
                for mesure in by_territoire[territoire]:
                    if (mesure.annee, mesure.type_periode, mesure.numero_periode) == periode:
                        comparaisons.setdefault(indicateur.pk, []).append(
                            (territoire, hidden.show(mesure), mesure.periode_libelle)
                        )
                        break
        if indicateur.type == Indicateur.Type.QUALITATIF:
            continue
        valeurs = [m for m in mesures if m.nature == Mesure.Nature.VALEUR and m.valeur is not None]
        if valeurs:
            donnees = charts.chart_data(indicateur, mesures, hidden)
            if donnees.series:
                graphiques[indicateur.pk] = (
                    donnees,
                    charts.chart(donnees, ident=f"graphique-{indicateur.pk}"),
                )
    return lignes, comparaisons, graphiques


def _depuis_reference(ligne):
    portee = ligne.portee
    hidden = portee.secret
    apres, reference = hidden.number(portee.derniere), hidden.number(portee.reference)
    if apres is None or reference is None:
        return ""
    return secret.format_decimal(apres - reference, signed=True)


def _indicateur(indicateur, scopes, lignes, comparaisons, graphiques):
    """The blocks of one indicator: its heading, its table, its source and its chart;
    none when nothing is known of it."""
    unite = secret.unit_of(indicateur)
    titre = indicateur.libelle + (f" ({unite})" if unite else "")
    out = [blocs.titre(3, titre)]
    rows = []
    for quartier in scopes:
        ligne = lignes[quartier.pk if quartier else None].get(indicateur.pk)
        if ligne is None:
            continue
        portee = ligne.portee
        if portee.derniere is None and portee.reference is None and portee.cible is None:
            continue
        rows.append(
            [
                f"{quartier.nom} ({quartier.code})" if quartier else TERRITOIRE,
                ligne.valeur or "—",
                ligne.derniere.periode_libelle if ligne.derniere else "",
                ligne.evolution,
                _depuis_reference(ligne),
                ligne.cible,
                ligne.evaluation.libelle,
            ]
        )
    for territoire, valeur, periode in comparaisons.get(indicateur.pk, []):
        rows.append([f"{territoire.nom} (comparaison)", valeur, periode, "", "", "", ""])
    if not rows and indicateur.pk not in graphiques:
        return []  # listed with the pilier's indicators without values
    if rows:
        out.append(
            blocs.tableau(f"{indicateur.libelle} : dernières valeurs", ENTETES_INDICATEUR, rows)
        )
    if indicateur.source_donnees:
        out.append(blocs.note(f"Source : {indicateur.source_donnees}"))
    if indicateur.pk in graphiques:
        donnees, svg = graphiques[indicateur.pk]
        out.append(_graphique(indicateur, donnees, svg))
    return out


def _graphique(indicateur, donnees, svg):
    etiquettes = [libelle for _, libelle in donnees.periodes]
    series_ = []
    for serie in donnees.series:
        valeurs = []
        for cle, _ in donnees.periodes:
            point = serie.points.get(cle)
            valeurs.append(None if point is None or point.masque else float(point.mesure.valeur))
        series_.append({"nom": serie.libelle, "valeurs": valeurs})
    cible = next((float(r.valeur) for r in donnees.reperes if r.libelle.startswith("Cible")), None)
    resume = "; ".join(
        f"{serie.libelle} : "
        + ", ".join(
            f"{libelle} {point.texte}"
            for (cle, libelle) in donnees.periodes
            if (point := serie.points.get(cle)) is not None
        )
        for serie in donnees.series
    )
    alternative = f"Graphique de l'évolution de « {indicateur.libelle} ». {resume}."
    if donnees.masques:
        alternative += f" {donnees.masques} valeur(s) couverte(s) par le secret statistique."
    trace = {
        "unite": secret.unit_of(indicateur),
        "etiquettes": etiquettes,
        "series": series_,
        "cible": cible,
    }
    return blocs.graphique(f"Évolution : {indicateur.libelle}", alternative, str(svg), trace)


# The changes of the diagnostic over the year --------------------------------------------

TYPES = (("+", "Créations"), ("~", "Modifications"), ("-", "Suppressions"))


def changements(contrat, annee):
    """The blocks of what changed in the contract's diagnostic during `annee`."""
    editions = list(Diagnostic.objects.filter(contrat=contrat).order_by("date_edition", "pk"))
    out = [blocs.titre(2, f"Évolutions du diagnostic en {annee}")]
    evenements = _evenements(contrat, annee)
    if evenements:
        out.append(blocs.liste(evenements))
    rows = _compte_des_modifications(editions, annee)
    if rows:
        out.append(
            blocs.tableau(
                f"Modifications apportées au diagnostic en {annee}",
                ("Élément", *(titre for _, titre in TYPES)),
                rows,
            )
        )
    elif not evenements:
        out.append(blocs.paragraphe(f"Le diagnostic n'a pas été modifié en {annee}."))
    for edition in editions:
        if edition.precedente_id and edition.created_at.year == annee:
            out += _revision(edition)
    return out


def _evenements(contrat, annee):
    """The editions' events of the year: started, published, frozen (their history)."""
    rows = (
        Diagnostic.history.filter(contrat_id=contrat.pk, history_date__year=annee)
        .order_by("history_date", "history_id")
        .values("nom_edition", "statut", "history_type", "history_date")
    )
    found, etat = [], {}
    libelles = dict(Diagnostic.Statut.choices)
    for row in rows:
        nom, date = row["nom_edition"], row["history_date"].strftime("%d/%m/%Y")
        if row["history_type"] == "+":
            found.append(f"{date} : édition « {nom} » commencée.")
        elif row["history_type"] == "-":
            found.append(f"{date} : édition « {nom} » supprimée.")
        elif etat.get(nom) not in (None, row["statut"]):
            found.append(f"{date} : édition « {nom} » désormais {libelles[row['statut']].lower()}.")
        etat[nom] = row["statut"]
    return found


def _compte_des_modifications(editions, annee):
    """[[kind, created, changed, deleted]] of the changes made in the editions during the
    year (an edition's copy of the one before it is not a change: its rows are dated
    when it was started, `diagnostics.editions.copy`). One query per kind."""
    pks = [edition.pk for edition in editions]

    def sans_copies(queryset, diagnostic):
        copie = Diagnostic.objects.filter(
            pk=OuterRef(diagnostic),
            precedente__isnull=False,
            created_at__gte=OuterRef("history_date"),
        )
        return (
            queryset.filter(history_date__year=annee)
            .exclude(Exists(copie))
            .values("history_type")
            .annotate(n=Count("history_id"))
            .order_by()
        )

    rows = []
    for kind in [*kinds.levels(), *kinds.items()]:
        history = kind.model.history.filter(diagnostic_id__in=pks)
        _add(rows, kind.nom.pluriel.capitalize(), sans_copies(history, "diagnostic_id"))
        for value_kind in kinds.values_of(kind):
            diagnostic = f"{value_kind.parent}__diagnostic_id"
            history = value_kind.model.history.filter(Q(**{f"{diagnostic}__in": pks}))
            _add(rows, value_kind.nom.pluriel.capitalize(), sans_copies(history, diagnostic))
    return rows


def _add(rows, libelle, counts):
    by_type = {row["history_type"]: row["n"] for row in counts}
    if any(by_type.values()):
        rows.append([libelle, *(str(by_type.get(t, 0)) for t, _ in TYPES)])


def _revision(edition):
    """What a revision changed from the edition before it (as a partner reads it)."""
    precedente = edition.precedente
    comparaison = diff.compare(precedente, edition, LECTEUR)
    out = [blocs.titre(3, f"Révision : « {precedente.nom_edition} » → « {edition.nom_edition} »")]
    if not comparaison.nombre:
        out.append(blocs.paragraphe("La révision n'a rien changé au diagnostic."))
        return out
    out.append(
        blocs.paragraphe(
            ", ".join(f"{n} {titre}" for _, titre, n in comparaison.resume).capitalize() + "."
        )
    )
    rows = list(comparaison.rows())
    lignes = [[r[0], r[1], r[2], r[4] or r[3], r[7]] for r in rows[:CHANGEMENTS_MAX]]
    out.append(
        blocs.tableau(
            "Changements de la révision",
            ("Pilier", "Nature", "Élément", "Libellé", "Détail"),
            lignes,
        )
    )
    if len(rows) > CHANGEMENTS_MAX:
        out.append(
            blocs.note(
                f"Et {len(rows) - CHANGEMENTS_MAX} autres changements : voir la comparaison "
                "des éditions dans le site."
            )
        )
    return out
