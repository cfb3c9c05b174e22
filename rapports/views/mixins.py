"""The access rule of the reports' pages (`rapports.acces`), in one mixin.

`RapportMixin` resolves `<slug>`, `<annee>` and `<version>` into `self.contrat` and
`self.rapport`: a report the user may not read is a 404 for a signed-in user (another
contract's reports do not exist for them) and the login page for an anonymous visitor.
`requis` names what the page needs beyond reading: "ecrit" (Équipe ville and
Administrateurs) or "decide" (Administrateurs): a 403 with `refus` otherwise.
"""

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404

from diagnostics.models import Contrat

from .. import acces
from ..models import Rapport

ABSENT = "Ce rapport n'existe pas ou ne vous est pas accessible."


class ContratRapportsMixin:
    """`<slug>` into `self.contrat`: any contract; what the user sees of its reports is
    `acces.rapports_lisibles` (a visitor sees the published ones)."""

    def dispatch(self, request, *args, **kwargs):
        self.contrat = Contrat.objects.filter(slug=kwargs["slug"]).first()
        if self.contrat is None:
            raise Http404("Ce contrat de ville n'existe pas.")
        return super().dispatch(request, *args, **kwargs)

    def refuse(self):
        if not self.request.user.is_authenticated:
            return redirect_to_login(self.request.get_full_path())
        raise Http404(ABSENT)

    def interdit(self, message):
        """An action the user may not do: the login page for an anonymous visitor (who
        may hold a role once signed in), else a 403 with `message`."""
        if not self.request.user.is_authenticated:
            return redirect_to_login(self.request.get_full_path())
        raise PermissionDenied(message)

    def get_context_data(self, **kwargs):
        kwargs.setdefault("contrat", self.contrat)
        return super().get_context_data(**kwargs)


class RapportMixin(ContratRapportsMixin):
    requis = ""  # "", "ecrit" or "decide"
    refus = "Vous ne pouvez pas faire cette action sur ce rapport."

    def dispatch(self, request, *args, **kwargs):
        self.contrat = Contrat.objects.filter(slug=kwargs["slug"]).first()
        self.rapport = (
            Rapport.objects.filter(
                contrat=self.contrat, annee=kwargs["annee"], version=kwargs["version"]
            )
            .select_related("contrat", "adopte_par", "precedente")
            .first()
            if self.contrat
            else None
        )
        if self.rapport is None or not acces.lit(request.user, self.rapport):
            return self.refuse()
        if self.requis and not getattr(acces, self.requis)(request.user, self.contrat):
            return self.interdit(self.refus)
        return super(ContratRapportsMixin, self).dispatch(request, *args, **kwargs)

    def droits(self):
        user = self.request.user
        return {
            "ecrit": acces.ecrit(user, self.contrat),
            "decide": acces.decide(user, self.contrat),
            "membre": acces.membre(user, self.contrat),
        }

    def get_context_data(self, **kwargs):
        kwargs.setdefault("rapport", self.rapport)
        kwargs.setdefault("droits", self.droits())
        return super().get_context_data(**kwargs)
