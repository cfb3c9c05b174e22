"""A contract and its editions: the list of editions, starting a new one, and the
actions of an Administrateur on an edition (publish, unpublish, freeze, delete a draft).

Views stay thin: the rules are in `diagnostics.editions` (states, copy).
"""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.views.generic import TemplateView

from ..access import (
    administers_somewhere,
    can_administer,
    can_edit,
    visible_contrats,
    visible_diagnostics,
)
from ..editions import states
from ..editions.copy import latest_edition, start_edition
from ..forms.editions import DepublicationForm, NouvelleEditionForm
from ..quartiers import carte
from .mixins import DiagnosticAccessMixin

ADMIN_ONLY = "Seuls les administrateurs du contrat gèrent ses éditions."


class ContratMixin:
    """Resolves `<slug>` into a contract of which the user may read an edition: else the
    login page for an anonymous visitor, a 404 for a signed-in one."""

    administrateur_requis = False
    administrateur_message = ADMIN_ONLY

    def dispatch(self, request, *args, **kwargs):
        if self.administrateur_requis and not administers_somewhere(request.user):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            raise PermissionDenied(self.administrateur_message)
        self.contrat = visible_contrats(request.user).filter(slug=kwargs["slug"]).first()
        if self.contrat is None:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            raise Http404("Ce contrat de ville n'existe pas ou ne vous est pas accessible.")
        if self.administrateur_requis and not can_administer(request.user, self.contrat):
            raise PermissionDenied(self.administrateur_message)
        return super().dispatch(request, *args, **kwargs)

    def editions(self):
        return list(
            visible_diagnostics(self.request.user)
            .filter(contrat=self.contrat)
            .select_related("precedente")
            .order_by("date_edition", "pk")
        )

    def get_context_data(self, **kwargs):
        kwargs.setdefault("contrat", self.contrat)
        return super().get_context_data(**kwargs)


class ContratView(ContratMixin, TemplateView):
    """The contract: its territory, signatories and period, its editions and their state,
    what changed between the last two, and an Administrateur's actions."""

    template_name = "diagnostics/editions/contrat.html"

    def get_context_data(self, **kwargs):
        editions = self.editions()
        administrateur = can_administer(self.request.user, self.contrat)
        brouillon = next((e for e in editions if e.est_brouillon), None)
        # The quartiers of the latest edition the user may read, and their map.
        derniere = editions[-1] if editions else None
        quartiers = carte.quartiers_of(derniere) if derniere else []
        return super().get_context_data(
            derniere=derniere,
            quartiers=quartiers,
            carte=carte.carte_edition(derniere, quartiers) if quartiers else None,
            editions=editions,
            journal=states.journal(self.contrat)
            if can_edit(self.request.user, self.contrat)
            else [],
            brouillon=brouillon,
            administrateur=administrateur,
            peut_commencer=administrateur and brouillon is None and bool(editions),
            comparable=len(editions) >= 2,
            **kwargs,
        )


class NouvelleEditionView(ContratMixin, TemplateView):
    """Start a new edition, copied from the latest one (Administrateur)."""

    administrateur_requis = True
    template_name = "diagnostics/editions/nouvelle.html"

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", NouvelleEditionForm(contrat=self.contrat))
        return super().get_context_data(source=latest_edition(self.contrat), **kwargs)

    def post(self, request, *args, **kwargs):
        form = NouvelleEditionForm(request.POST, contrat=self.contrat)
        if form.is_valid():
            try:
                edition = start_edition(
                    self.contrat,
                    nom=form.cleaned_data["nom"],
                    date=form.cleaned_data["date"],
                    user=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request,
                    f"L'édition « {edition.nom_edition} » est commencée, en brouillon : elle "
                    f"reprend tout le contenu de « {edition.precedente.nom_edition} ».",
                )
                return HttpResponseRedirect(edition.get_absolute_url())
        return self.render_to_response(self.get_context_data(form=form), status=400)


# The actions on one edition ---------------------------------------------------------------

ACTIONS = {
    # action of the URL: (title of the page, label of its button)
    "publier": ("Publier l'édition", "Publier"),
    "depublier": ("Dépublier l'édition", "Dépublier"),
    "figer": ("Figer l'édition", "Figer définitivement"),
    "supprimer": ("Supprimer l'édition en brouillon", "Supprimer définitivement"),
}


class EtatEditionView(DiagnosticAccessMixin, TemplateView):
    """Confirm, then do, an action of an Administrateur on an edition.

    On a frozen edition every action is refused by `DiagnosticAccessMixin` (403, saying
    so): a frozen edition never changes again."""

    permission = staticmethod(can_administer)
    permission_anywhere = staticmethod(administers_somewhere)
    permission_denied_message = ADMIN_ONLY
    changes_contents = True
    template_name = "diagnostics/editions/etat.html"

    def resolved(self):
        self.action = self.kwargs["action"]
        if self.action not in ACTIONS:
            raise Http404("Cette action n'existe pas.")

    def get_context_data(self, **kwargs):
        titre, bouton = ACTIONS[self.action]
        context = {"titre": titre, "bouton": bouton}
        kwargs.setdefault("action", self.action)
        if self.action == "supprimer":
            context["suppression"] = states.draft_deletion(self.diagnostic)
        if self.action == "depublier":
            kwargs.setdefault("form", DepublicationForm())
        return super().get_context_data(**context, **kwargs)

    def post(self, request, *args, **kwargs):
        diagnostic, user = self.diagnostic, request.user
        form = None
        try:
            if self.action == "publier":
                states.publish(diagnostic, user)
                message = f"L'édition « {diagnostic.nom_edition} » est publiée."
            elif self.action == "figer":
                states.freeze(diagnostic, user)
                message = (
                    f"L'édition « {diagnostic.nom_edition} » est figée : elle ne sera plus "
                    "modifiée."
                )
            elif self.action == "depublier":
                form = DepublicationForm(request.POST)
                if not form.is_valid():
                    return self.render_to_response(self.get_context_data(form=form), status=400)
                states.unpublish(diagnostic, user, form.cleaned_data["motif"])
                message = f"L'édition « {diagnostic.nom_edition} » est revenue en brouillon."
            else:
                contrat = diagnostic.contrat
                states.delete_draft(diagnostic, user)
                messages.success(
                    request, f"L'édition en brouillon « {diagnostic.nom_edition} » est supprimée."
                )
                return HttpResponseRedirect(reverse("diagnostics:contrat", args=[contrat.slug]))
        except ValidationError as error:
            context = self.get_context_data(**({"form": form} if form else {}))
            context["refus"] = error.messages
            return self.render_to_response(context, status=409)
        messages.success(request, message)
        return HttpResponseRedirect(reverse("diagnostics:contrat", args=[diagnostic.contrat.slug]))
