"""The quartiers of a contract, chosen by its Administrateur from the référentiel: the
current list (each with a box to remove it) and a search of the référentiel (each result
with a button to add it). No JavaScript: the search is a GET form, each change a POST of
the whole list with its state token. The rules are in `diagnostics.quartiers.contrat`."""

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.views.generic import TemplateView

from ..quartiers import contrat as rules
from .editions import ContratMixin

ADMIN_ONLY = "Seuls les administrateurs du contrat choisissent ses quartiers."
UNREADABLE = "Le formulaire envoyé est illisible : rechargez la page, puis recommencez."
ID_MAX_DIGITS = 18  # beyond, not a row number (and SQLite's integers overflow)


def _ids(values):
    """The ids posted under one name, or None when one of them is not a number."""
    found = set()
    for value in values:
        value = value.strip()
        if not value.isascii() or not value.isdigit() or len(value) > ID_MAX_DIGITS:
            return None
        found.add(int(value))
    return found


def _printable(text):
    """The query as it is shown again in the form: control characters dropped."""
    return "".join(char for char in text if char.isprintable())


def _noms(quartiers):
    return ", ".join(f"{quartier.nom} ({quartier.code})" for quartier in quartiers)


def _editions(editions):
    return ", ".join(f"« {edition.nom_edition} »" for edition in editions)


def success_message(choix):
    """ "Quartier ajouté : Fontbouillant (QN00305M). Les éditions … suivent cette liste." """
    parts = []
    for quartiers, singulier, pluriel in (
        (choix.ajoutes, "Quartier ajouté", "Quartiers ajoutés"),
        (choix.retires, "Quartier retiré", "Quartiers retirés"),
    ):
        if quartiers:
            parts.append(f"{singulier if len(quartiers) == 1 else pluriel} : {_noms(quartiers)}.")
    if len(choix.editions) == 1:
        parts.append(f"L'édition {_editions(choix.editions)} suit cette liste.")
    else:
        parts.append(f"Les éditions {_editions(choix.editions)} suivent cette liste.")
    if choix.figees:
        s = "s" if len(choix.figees) > 1 else ""
        parts.append(
            f"L'édition{s} figée{s} {_editions(choix.figees)} "
            f"{'gardent les leurs' if s else 'garde les siens'}."
        )
    return " ".join(parts)


class QuartiersContratView(ContratMixin, TemplateView):
    """The contract's quartiers and the search of the référentiel (Administrateur)."""

    administrateur_requis = True
    administrateur_message = ADMIN_ONLY
    template_name = "diagnostics/quartiers/choix.html"

    def page(self, query=""):
        url = reverse("diagnostics:quartiers_contrat", args=[self.contrat.slug])
        return f"{url}?{urlencode({'recherche': query})}" if query else url

    def get_context_data(self, **kwargs):
        user = self.request.user
        editions = list(self.contrat.editions.order_by("date_edition", "pk"))
        latest = max(editions, key=lambda e: (e.date_edition, e.pk), default=None)
        quartiers = list(rules.quartiers_du_contrat(self.contrat).prefetch_related("communes"))
        data = self.request.GET if self.request.method == "GET" else self.request.POST
        query = _printable(data.get("recherche", ""))
        resultats, plus, erreur = [], False, ""
        try:
            resultats, plus = rules.chercher_quartiers(query)
        except rules.RechercheInvalide as error:
            erreur, query = str(error), ""
        autres = rules.autres_contrats(resultats, self.contrat, user) if resultats else {}
        for quartier in resultats:
            quartier.autres_contrats = autres.get(quartier.pk, [])
        return super().get_context_data(
            quartiers=quartiers,
            deja={quartier.pk for quartier in quartiers},
            etat=rules.etat_des_quartiers(self.contrat),
            suivantes=[e for e in editions if not e.est_figee],
            figees=[e for e in editions if e.est_figee],
            modifiable=latest is not None and not latest.est_figee,
            sans_edition=latest is None,
            recherche=query,
            cherche=bool(rules.mots_de_recherche(query)),
            erreur_recherche=erreur,
            resultats=resultats,
            plus=plus,
            limite=rules.SEARCH_LIMIT,
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        listed, removed, added = (
            _ids(request.POST.getlist(name)) for name in ("quartiers", "retirer", "ajouter")
        )
        if listed is None or removed is None or added is None:
            return self.refused([UNREADABLE], status=400)
        query = _printable(request.POST.get("recherche", ""))[: rules.SEARCH_MAX_LENGTH]
        try:
            choix = rules.choisir_quartiers(
                self.contrat,
                (listed | added) - removed,
                request.user,
                etat=request.POST.get("etat", ""),
            )
        except ValidationError as error:
            status = 400 if getattr(error, "code", None) == "inconnu" else 409
            return self.refused(error.messages, status=status)
        if choix.change:
            messages.success(request, success_message(choix))
        else:
            messages.info(request, "Aucun changement : la liste des quartiers est la même.")
        return HttpResponseRedirect(self.page(query))

    def refused(self, refus, status):
        return self.render_to_response(self.get_context_data(refus=refus), status=status)
