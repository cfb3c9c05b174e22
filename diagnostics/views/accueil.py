"""The home page: each user's contracts with their key figures and the ways to their
pages. Views stay thin: what is shown is computed by `diagnostics.accueil`."""

from django.views.generic import TemplateView

from ..accueil import contracts_for


class HomeView(TemplateView):
    """The contracts of the user (those of the public editions for anyone else), each
    with its current edition, its draft for those who read drafts, their key figures
    and links; a short introduction for a visitor who holds no role."""

    template_name = "diagnostics/home.html"

    def get_context_data(self, **kwargs):
        accueil = contracts_for(self.request.user)
        return super().get_context_data(contrats=accueil.contrats, membre=accueil.membre, **kwargs)
