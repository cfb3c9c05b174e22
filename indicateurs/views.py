"""Pages of the indicateurs: their filtered list and its exports (see diagnostics.views),
the tableau de bord of a diagnostic, the page of an indicator, and the forms of the
Équipe ville (information, saisie of a period, change and deletion of a measure).

Pages of an indicator live under /indicateurs/<slug of its diagnostic>/ and follow the
access rule of the pages of a diagnostic (diagnostics.views.mixins): anonymous visitors who
may not read are sent to the login page, signed-in users who may not get a 404. The
forms are for the Équipe ville and the Administrateur (`can_edit`): anyone else who may
read the diagnostic gets a 403 (anonymous visitors: the login page).

An indicator's pages show the values of its lineage (`indicateurs.models.series`): those
entered in an earlier edition of the contract are shown as such (`heritee`), without the
links to change or delete them: a measure is changed only from the edition that holds it
(the URL of a measure names its edition's diagnostic). A value entered here for the same
period and place is this edition's, and is the one shown from then on.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Prefetch, prefetch_related_objects
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views import View
from django.views.generic import DetailView, TemplateView

from diagnostics.access import can_edit
from diagnostics.models import Quartier
from diagnostics.queries import url_maker
from diagnostics.views.lists import ElementExportView, ElementListView
from diagnostics.views.mixins import DiagnosticAccessMixin

from . import carte, charts, entry, fiche, history, secret, tableau
from .filters import IndicateurFilterSet, TableauFilterSet
from .forms import IndicateurForm, MesureForm, ReperesForm, SaisieForm, SuppressionForm
from .models import Indicateur, Mesure, TerritoireComparaison, latest_reperes, series

# Lists ------------------------------------------------------------------------------------


class IndicateurListView(ElementListView):
    model = Indicateur
    filterset_class = IndicateurFilterSet
    template_name = "indicateurs/indicateur_list.html"
    export_url_name = "indicateurs:export"
    titre = "Indicateurs"
    nom, nom_pluriel = "indicateur", "indicateurs"
    aucun = "Aucun indicateur ne correspond à ces filtres."

    def get_context_data(self, **kwargs):
        """Also the tableaux de bord of the diagnostics shown (`tableaux_de_bord`: [(titre,
        url)]): the list's diagnostic, or those of the items of the page, read from the
        columns already loaded (no query)."""
        context = super().get_context_data(**kwargs)
        diagnostic = context["diagnostic"]
        if diagnostic is not None:
            shown = {diagnostic.slug: diagnostic.titre}
        else:
            shown = {
                element.place_diagnostic_slug: element.place_diagnostic_titre
                for element in context["elements"] or ()
            }
        context["tableaux_de_bord"] = [
            (titre, reverse("indicateurs:tableau_de_bord", kwargs={"slug": slug}))
            for slug, titre in shown.items()
        ]
        return context


class IndicateurExportView(ElementExportView):
    model = Indicateur
    filterset_class = IndicateurFilterSet
    list_url_name = "indicateurs:liste"
    basename = "indicateurs"
    sheet_title = "Indicateurs"


# Tableau de bord --------------------------------------------------------------------------


class TableauMixin(DiagnosticAccessMixin):
    """The rows of the tableau de bord, filtered by the URL's parameters."""

    def load_rows(self):
        self.filterset = TableauFilterSet(
            self.request.GET or None,
            Indicateur.objects.select_related("sous_theme"),
            diagnostic=self.diagnostic,
            request=self.request,
        )
        if not self.filterset.valid:
            return []
        self.quartier = self.filterset.choice("quartier")
        self.comparaison = self.filterset.choice("comparaison")
        return tableau.rows_of(
            tableau.in_diagnostic_order(self.filterset.qs, self.diagnostic, self.filterset.themes),
            self.quartier,
            self.request.user,
            statut=self.filterset.choice("statut"),
            comparaison=self.comparaison,
        )


class TableauDeBordView(TableauMixin, TemplateView):
    """Every indicator of a diagnostic with its latest value, its change and its status."""

    template_name = "indicateurs/tableau_de_bord.html"

    def get_context_data(self, **kwargs):
        self.quartier = self.comparaison = None
        rows = self.load_rows()
        query_string = self.request.GET.urlencode()
        suffix = f"?{query_string}" if query_string else ""
        exports_urls = {
            export_format: reverse(
                "indicateurs:tableau_de_bord_export",
                kwargs={"slug": self.diagnostic.slug, "format": export_format},
            )
            + suffix
            for export_format in ("xlsx", "csv")
        }
        piliers = {}
        url = url_maker("indicateurs:detail", self.diagnostic.slug)
        for row in rows:
            piliers.setdefault(row.indicateur.theme_effectif.pilier, []).append(row)
            # What the table shows of each row, written here rather than by a hundred
            # {% url %} and truncatechars in the template.
            row.url = url(row.indicateur.pk)
            row.libelle_court = tableau.truncate(row.indicateur.libelle, 160)
            row.valeur_courte = tableau.truncate(row.valeur, 140)
        return super().get_context_data(
            filter=self.filterset,
            lignes=rows,
            piliers=list(piliers.items()),
            statuts=tableau.count_statuts(rows),
            serie=tableau.serie_label(self.quartier),
            quartier=self.quartier,
            comparaison=self.comparaison,
            fictives=any(row.fictive or row.precedente_fictive for row in rows),
            exports_urls=exports_urls,
            seuils=sorted(
                {row.indicateur.seuil for row in rows if row.indicateur.compte_des_personnes}
            ),
            peut_modifier=can_edit(self.request.user, self.diagnostic)
            and not self.diagnostic.est_figee,
            **kwargs,
        )


class TableauDeBordExportView(TableauMixin, View):
    """The tableau de bord as filtered, in a spreadsheet or a CSV file (masked values stay
    masked). Invalid filters send back to the page, which shows their errors."""

    def get(self, request, *args, format, **kwargs):
        self.quartier = self.comparaison = None
        rows = self.load_rows()
        page = reverse("indicateurs:tableau_de_bord", kwargs={"slug": self.diagnostic.slug})
        if not self.filterset.valid:
            return redirect(f"{page}?{request.GET.urlencode()}")
        serie = tableau.serie_label(self.quartier)
        basename = f"tableau-de-bord-{self.diagnostic.slug}"
        if self.quartier is not None:
            basename += f"-{self.quartier.code}"
        return tableau.export_response(rows, serie, format, basename, self.comparaison)


# The page of an indicator -----------------------------------------------------------------


class IndicateurAccessMixin(DiagnosticAccessMixin):
    """A page of an indicator (or of one of its measures, `diagnostic_path`
    "indicateur__diagnostic"), under the access rule of the pages of a diagnostic; its
    forms ask `can_edit` (`editing`)."""

    model = Indicateur
    related = ("sous_theme__theme__pilier", "theme__pilier")
    not_found_message = "Cet indicateur n'existe pas dans ce diagnostic."
    editing = False  # for the Équipe ville only
    permission_denied_message = (
        "Seuls l'équipe ville et les administrateurs du contrat modifient ses indicateurs."
    )

    def permission(self, user, diagnostic):
        return can_edit(user, diagnostic) or not self.editing

    @property
    def changes_contents(self):
        """The forms change the edition: refused on a frozen one."""
        return self.editing

    def resolved(self):
        self.indicateur = self.object.indicateur if self.model is Mesure else self.object
        self.share_diagnostic(self.indicateur, self.indicateur.theme_effectif.pilier)

    def get_context_data(self, **kwargs):
        kwargs.setdefault("indicateur", self.indicateur)
        kwargs.setdefault(
            "peut_modifier",
            can_edit(self.request.user, self.diagnostic) and not self.diagnostic.est_figee,
        )
        return super().get_context_data(**kwargs)

    def indicateur_url(self):
        return reverse(
            "indicateurs:detail", kwargs={"slug": self.diagnostic.slug, "pk": self.indicateur.pk}
        )


class IndicateurView(IndicateurAccessMixin, DetailView):
    """An indicator: its information, the chart of its values with the same numbers in a
    table, its written constats as a timeline, and its place in the diagnostic."""

    template_name = "indicateurs/indicateur_detail.html"
    context_object_name = "indicateur"

    def get_context_data(self, **kwargs):
        indicateur, user = self.object, self.request.user
        # The edition's quartiers, read once for the map and the references (one query).
        prefetch_related_objects([self.diagnostic], "quartiers")
        # The values of its lineage, its own references and targets (one query).
        mesures = series(
            [indicateur],
            reperes=True,
            queryset=Mesure.objects.select_related("quartier", "territoire", "saisi_par").order_by(
                "annee", "type_periode", "numero_periode"
            ),
        )[indicateur.pk]
        hidden = secret.Secret(indicateur, mesures, user)
        donnees = charts.chart_data(indicateur, mesures, hidden)
        mesures.sort(key=lambda m: (m.periode_cle, tableau.serie_key(m.lieu)))
        for mesure in mesures:
            mesure.affichee = hidden.show(mesure)
            mesure.termes = hidden.terms(mesure)
        valeurs = [m for m in mesures if m.nature == Mesure.Nature.VALEUR]
        return super().get_context_data(
            donnees=donnees,
            graphique=charts.chart(donnees, ident=f"graphique-{indicateur.pk}"),
            carte=self.carte(indicateur, mesures, hidden),
            constats=charts.constats_of(valeurs),
            mesures=valeurs,
            hors_serie=[m for m in valeurs if not donnees.shows(m) and m.valeur is not None],
            reperes=reperes_by_scope(indicateur, mesures, self.diagnostic),
            fictives=any(m.fictive for m in mesures),
            seuil=indicateur.seuil,
            **kwargs,
        )

    def carte(self, indicateur, mesures, hidden):
        """The map of its latest values by quartier, for a quantitative indicator of an
        edition with quartiers drawn. The edition's quartiers are read once for the map
        and the references (`reperes_scopes`); their communes when a map is drawn (one
        query)."""
        quartiers = list(self.diagnostic.quartiers.all())  # cached for reperes_scopes
        if not carte.a_dessiner(indicateur, quartiers):
            return None
        prefetch_related_objects(quartiers, "communes")
        quartiers.sort(key=lambda q: q.code)
        return carte.choroplethe(indicateur, mesures, hidden, quartiers, self.diagnostic)


def reperes_by_scope(indicateur, mesures, diagnostic):
    """[(scope's label, reference Mesure or None, target Mesure or None)] for each scope
    (`entry.reperes_scopes`); each Mesure with `affichee`."""
    found = latest_reperes(mesures)
    rows = []
    for lieu in entry.reperes_scopes(diagnostic, found):
        pk = lieu.pk if lieu else None
        reference = found.get((pk, Mesure.Nature.REFERENCE))
        rows.append((tableau.serie_label(lieu), reference, found.get((pk, Mesure.Nature.CIBLE))))
    return rows


class HistoriqueView(IndicateurAccessMixin, DetailView):
    """The changes of an indicator's information and values: who, when, what."""

    template_name = "indicateurs/historique.html"
    context_object_name = "indicateur"
    editing = True
    changes_contents = False  # a page to read, for the Équipe ville

    paginate_by = 100

    def get_context_data(self, **kwargs):
        entrees = history.history_of(self.object)
        page = Paginator(entrees, self.paginate_by).get_page(self.request.GET.get("page"))
        return super().get_context_data(
            entrees=page.object_list,
            page_obj=page,
            query_string="",
            fictives=any(e.fictive for e in page.object_list),
            **kwargs,
        )


# Forms of the Équipe ville ----------------------------------------------------------------

STALE_MESSAGE = (
    "{objet} a été modifié{accord} par quelqu'un d'autre depuis l'ouverture de cette page : "
    "vos changements n'ont pas été enregistrés. Rechargez la page pour voir la version "
    "actuelle, puis recommencez."
)


class IndicateurModifierView(IndicateurAccessMixin, TemplateView):
    """The information of an indicator: type, unit, definition, source, direction,
    reference and target, secret statistique."""

    template_name = "indicateurs/indicateur_form.html"
    editing = True

    def get(self, request, *args, **kwargs):
        form = IndicateurForm(instance=self.object)
        return self.render_to_response(self.get_context_data(form=form))

    def post(self, request, *args, **kwargs):
        form = IndicateurForm(request.POST, instance=self.object)
        if form.is_valid():
            try:
                entry.update_indicateur(
                    form.instance, form.cleaned_data["version_lue"], user=request.user
                )
            except entry.StaleEdit:
                form.add_error(None, STALE_MESSAGE.format(objet="Cet indicateur", accord=""))
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "Les informations de l'indicateur sont enregistrées.")
                return redirect(self.indicateur_url())
        return self.render_to_response(self.get_context_data(form=form))


class ReperesView(IndicateurAccessMixin, TemplateView):
    """The reference and target of every scope at once: the whole territory and each
    quartier of the diagnostic (or already holding one)."""

    template_name = "indicateurs/reperes_form.html"
    editing = True

    def form(self, data=None):
        existing = entry.reperes_of(self.object)
        scopes = entry.reperes_scopes(self.diagnostic, existing)
        form = ReperesForm(self.object, scopes, existing, data=data)
        form.fields["etat_lu"].initial = entry.reperes_state(existing)
        return form

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=self.form()))

    def post(self, request, *args, **kwargs):
        form = self.form(request.POST)
        if form.is_valid():
            try:
                written = entry.save_reperes(
                    self.object, form.changes, form.cleaned_data["etat_lu"], user=request.user
                )
            except entry.StaleEdit:
                form.add_error(
                    None,
                    "Les références ou les cibles ont été modifiées par quelqu'un d'autre "
                    "depuis l'ouverture de cette page : vos changements n'ont pas été "
                    "enregistrés. Rechargez la page pour voir la version actuelle, puis "
                    "recommencez.",
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                if written:
                    messages.success(request, "Les références et les cibles sont enregistrées.")
                else:
                    messages.info(request, "Aucune modification.")
                return redirect(self.indicateur_url())
        return self.render_to_response(self.get_context_data(form=form))


class SaisieView(IndicateurAccessMixin, TemplateView):
    """The values of one period for every series at once: the whole territory and each
    quartier of the diagnostic (and of the indicator)."""

    template_name = "indicateurs/saisie.html"
    editing = True

    def get_object_queryset(self, model):
        return (
            super()
            .get_object_queryset(model)
            .prefetch_related(Prefetch("quartiers", queryset=Quartier.objects.order_by("code")))
        )

    def series(self):
        quartiers = {q.pk: q for q in self.diagnostic.quartiers.order_by("code")}
        for quartier in self.object.quartiers.all():
            quartiers.setdefault(quartier.pk, quartier)
        return [None, *sorted(quartiers.values(), key=lambda q: q.code)]

    def initial(self):
        """The year after the latest value of its lineage's series, its source."""
        derniere = (
            Mesure.objects.filter(
                nature=Mesure.Nature.VALEUR,
                territoire__isnull=True,
                indicateur__lignee=self.object.lignee,
            )
            .order_by("-annee")
            .values_list("annee", flat=True)
            .first()
        )
        return {
            "annee": derniere + 1 if derniere else None,
            "source": self.object.source_donnees,
        }

    def form(self, data=None):
        return SaisieForm(self.object, self.series(), data=data, initial=self.initial())

    def get_context_data(self, **kwargs):
        mesures = series(
            [self.object], queryset=Mesure.objects.select_related("quartier", "territoire")
        )[self.object.pk]
        mesures.sort(key=lambda m: tableau.serie_key(m.lieu))
        mesures.sort(key=lambda m: m.periode_cle, reverse=True)  # latest first, stable
        hidden = secret.Secret(self.object, mesures, self.request.user)
        for mesure in mesures:
            mesure.affichee = hidden.show(mesure)
            mesure.termes = hidden.terms(mesure)
        return super().get_context_data(
            mesures=mesures,
            a_preciser=self.object.type == Indicateur.Type.A_PRECISER,
            **kwargs,
        )

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=self.form()))

    def post(self, request, *args, **kwargs):
        if self.object.type == Indicateur.Type.A_PRECISER:
            return self.get(request, *args, **kwargs)  # the page says what to do first
        form = self.form(request.POST)
        if form.is_valid():
            try:
                entry.save_mesures(form.mesures, user=request.user)
            except entry.MesureDejaSaisie:
                form.non_field_errors.append(
                    "Une valeur de cette période vient d'être saisie par quelqu'un d'autre : "
                    "rien n'a été enregistré. Rechargez la page pour la voir."
                )
            else:
                nombre = len(form.mesures)
                periode = form.mesures[0].periode_libelle
                messages.success(
                    request,
                    f"{nombre} valeur{'s' if nombre > 1 else ''} enregistrée"
                    f"{'s' if nombre > 1 else ''} pour {periode}.",
                )
                return redirect(self.indicateur_url())
        return self.render_to_response(self.get_context_data(form=form))


class MesureMixin(IndicateurAccessMixin):
    model = Mesure
    diagnostic_path = "indicateur__diagnostic"
    related = (
        "quartier",
        "indicateur__sous_theme__theme__pilier",
        "indicateur__theme__pilier",
    )
    not_found_message = "Cette mesure n'existe pas dans ce diagnostic."
    editing = True

    def resolved(self):
        super().resolved()
        # As stored, before a form changes the object (the Équipe ville sees every value).
        self.affichee = secret.Secret(self.indicateur, [], self.request.user).show(self.object)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            mesure=self.object,
            serie=tableau.serie_label(self.object.lieu),
            affichee=self.affichee,
            **kwargs,
        )


class MesureModifierView(MesureMixin, TemplateView):
    template_name = "indicateurs/mesure_form.html"

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=MesureForm(instance=self.object)))

    def post(self, request, *args, **kwargs):
        form = MesureForm(request.POST, instance=self.object)
        if form.is_valid():
            try:
                entry.update_mesure(
                    form.instance, form.cleaned_data["version_lue"], user=request.user
                )
            except entry.StaleEdit:
                form.add_error(None, STALE_MESSAGE.format(objet="Cette valeur", accord="e"))
            else:
                periode = form.instance.periode_libelle
                messages.success(request, f"La valeur de {periode} est modifiée.")
                return redirect(self.indicateur_url())
        return self.render_to_response(self.get_context_data(form=form))


class MesureSupprimerView(MesureMixin, TemplateView):
    template_name = "indicateurs/mesure_confirm_delete.html"

    def get(self, request, *args, **kwargs):
        return self.render_to_response(
            self.get_context_data(form=SuppressionForm(instance=self.object))
        )

    def post(self, request, *args, **kwargs):
        form = SuppressionForm(request.POST, instance=self.object)
        if form.is_valid():
            try:
                entry.delete_mesure(
                    self.object, form.cleaned_data["version_lue"], user=request.user
                )
            except entry.StaleEdit:
                form.add_error(None, STALE_MESSAGE.format(objet="Cette valeur", accord="e"))
            else:
                messages.success(request, "La valeur est supprimée.")
                return redirect(self.indicateur_url())
        return self.render_to_response(self.get_context_data(form=form))


# The fiche quartier -----------------------------------------------------------------------


class FicheQuartierView(DiagnosticAccessMixin, TemplateView):
    """The page of one quartier in an edition (`indicateurs.fiche`): its communes and map,
    the difficultés tagged with it, its indicators' latest values, their series, and the
    other contracts holding it. A quartier that is not the edition's is a 404.

    `?comparaison=<code>` chooses the comparison territory of the gaps among those the
    edition's indicators have values for (absent: the first of them, the commune first;
    empty: none)."""

    template_name = "indicateurs/fiche_quartier.html"

    def resolved(self):
        self.quartier = fiche.quartier_of(self.diagnostic, self.kwargs["code"])
        if self.quartier is None:
            raise Http404("Ce quartier n'est pas un quartier de ce diagnostic.")

    def comparaison(self):
        """(the chosen territory or None, the territories offered, an error message)."""
        lignees = Indicateur.objects.du_diagnostic(self.diagnostic).values("lignee")
        offerts = list(
            TerritoireComparaison.objects.filter(
                Exists(
                    Mesure.objects.filter(territoire=OuterRef("pk"), indicateur__lignee__in=lignees)
                )
            ).order_by("echelon", "nom")
        )
        if "comparaison" not in self.request.GET:
            return (offerts[0] if offerts else None), offerts, ""
        code = self.request.GET["comparaison"]
        choisi = next((t for t in offerts if t.code == code), None)
        if code and choisi is None:
            return None, offerts, "Ce territoire de comparaison n’est pas proposé ici."
        return choisi, offerts, ""

    def get_context_data(self, **kwargs):
        diagnostic, quartier, user = self.diagnostic, self.quartier, self.request.user
        comparaison, offerts, erreur = self.comparaison()
        difficultes = fiche.difficultes_of(diagnostic, quartier)
        indicateurs = fiche.indicateurs_of(diagnostic, quartier)
        lignes, sans_valeur = fiche.indicator_rows(indicateurs, quartier, user, comparaison)
        graphiques = fiche.charts_of([ligne.indicateur for ligne in lignes], quartier, user)
        url = url_maker("indicateurs:detail", diagnostic.slug)
        for ligne in lignes:
            ligne.url = url(ligne.indicateur.pk)
            ligne.libelle_court = tableau.truncate(ligne.indicateur.libelle, 160)
            ligne.valeur_courte = tableau.truncate(ligne.valeur, 140)
            ligne.graphique = graphiques.get(ligne.indicateur.pk)
        return super().get_context_data(
            quartier=quartier,
            titre_tableau=f"Indicateurs de {quartier.nom}",
            communes=list(quartier.communes.all()),
            carte=fiche.carte_of(diagnostic, quartier),
            difficultes=difficultes,
            difficultes_nombre=fiche.count(difficultes),
            difficultes_territoire=fiche.territoire_count(diagnostic),
            liste_difficultes_url=fiche.liste_url(diagnostic, quartier),
            lignes=lignes,
            sans_valeur=sans_valeur,
            comparaison=comparaison,
            comparaisons=offerts,
            comparaison_erreur=erreur,
            seuils=sorted(
                {
                    ligne.indicateur.seuil
                    for ligne in lignes
                    if ligne.indicateur.compte_des_personnes
                }
            ),
            fictives=any(
                ligne.fictive or (ligne.graphique and ligne.graphique.donnees.fictive)
                for ligne in lignes
            ),
            tableau_url=(
                reverse("indicateurs:tableau_de_bord", kwargs={"slug": diagnostic.slug})
                + f"?quartier={quartier.code}"
            ),
            autres_contrats=fiche.autres_contrats(diagnostic, quartier, user),
            peut_modifier=can_edit(user, diagnostic),
            **kwargs,
        )
