"""What changed between two editions of a contract's diagnostic: the page and its XLSX.

GET /contrats/<slug>/comparer/?de=<edition>&a=<edition> (and comparer.xlsx). The contract
is resolved like its page (`ContratMixin`: login page for an anonymous visitor who may
read none of its editions, 404 for a signed-in one). Both editions must be editions of
this contract that the user may read: any other value of `de` or `a` (unknown, of another
contract, a draft for a partner, malformed) is a 404 (the login page for an anonymous
visitor), so that a draft is never revealed. Without parameters: the latest edition
against the one it was copied from (or the one before it). The same edition twice is
refused with a message. The comparison itself is `diagnostics.editions.diff.compare`.
"""

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.urls import reverse
from django.utils.http import urlencode
from django.views import View
from django.views.generic import TemplateView

from ..editions.diff import EXPORT_HEADERS, compare
from ..exports import xlsx_table_response
from .editions import ContratMixin

NOT_AN_EDITION = "Cette édition n'existe pas dans ce contrat ou ne vous est pas accessible."
SAME_EDITION = "Choisissez deux éditions différentes : une édition ne se compare pas à elle-même."
ONE_EDITION = "Ce contrat n'a qu'une édition que vous pouvez consulter : rien à comparer."
NO_PREVIOUS = "Aucune édition ne précède « {nom} » : choisissez l'édition de départ."
COLUMN_WIDTHS = (35, 22, 14, 60, 60, 45, 45, 60)


class ComparaisonMixin(ContratMixin):
    """Resolves the two editions to compare: `self.ancienne`, `self.nouvelle` (None with
    `self.probleme`, a French message, when there is nothing to compare)."""

    def dispatch(self, request, *args, **kwargs):
        self.ancienne = self.nouvelle = None
        self.probleme = ""
        return super().dispatch(request, *args, **kwargs)

    def refuse_edition(self):
        if not self.request.user.is_authenticated:
            return redirect_to_login(self.request.get_full_path())
        raise Http404(NOT_AN_EDITION)

    def resolve_editions(self):
        """None, or the response refusing a parameter."""
        self.liste = self.editions()  # oldest first
        by_slug = {edition.slug: edition for edition in self.liste}
        asked = {}
        for name in ("de", "a"):
            value = self.request.GET.get(name, "")
            if value:
                if value not in by_slug:  # never sent to the database as it is
                    return self.refuse_edition()
                asked[name] = by_slug[value]
        if len(self.liste) < 2:
            self.probleme = ONE_EDITION
            return None
        nouvelle = asked.get("a") or self.liste[-1]
        ancienne = asked.get("de") or self.previous(nouvelle)
        if ancienne is None:
            self.probleme = NO_PREVIOUS.format(nom=nouvelle.nom_edition)
        elif ancienne.pk == nouvelle.pk:
            self.probleme = SAME_EDITION
        self.ancienne, self.nouvelle = ancienne, nouvelle
        return None

    def previous(self, edition):
        """The edition it was copied from if the user may read it, else the one before it."""
        if edition.precedente_id and any(e.pk == edition.precedente_id for e in self.liste):
            return edition.precedente
        index = self.liste.index(edition)
        return self.liste[index - 1] if index else None

    def get(self, request, *args, **kwargs):
        if refusal := self.resolve_editions():
            return refusal
        return self.respond()

    @property
    def comparable(self):
        return not self.probleme and self.ancienne is not None and self.nouvelle is not None


class ComparaisonView(ComparaisonMixin, TemplateView):
    """What changed between two editions, pilier by pilier."""

    template_name = "diagnostics/editions/comparaison.html"

    def respond(self):
        status = 400 if self.probleme == SAME_EDITION else 200
        return self.render_to_response(self.get_context_data(), status=status)

    def get_context_data(self, **kwargs):
        comparaison = (
            compare(self.ancienne, self.nouvelle, self.request.user) if self.comparable else None
        )
        export_url = ""
        if comparaison is not None:
            query = urlencode({"de": self.ancienne.slug, "a": self.nouvelle.slug})
            export_url = (
                f"{reverse('diagnostics:comparaison_export', args=[self.contrat.slug])}?{query}"
            )
        return super().get_context_data(
            editions=self.liste[::-1],  # newest first in the selects
            ancienne=self.ancienne,
            nouvelle=self.nouvelle,
            comparaison=comparaison,
            probleme=self.probleme,
            export_url=export_url,
            **kwargs,
        )


class ComparaisonExportView(ComparaisonMixin, View):
    """The same comparison as a spreadsheet, one row per change."""

    def respond(self):
        if not self.comparable:
            raise Http404(self.probleme)
        comparaison = compare(self.ancienne, self.nouvelle, self.request.user)
        filename = f"comparaison-{self.ancienne.slug}-{self.nouvelle.slug}.xlsx"
        return xlsx_table_response(
            EXPORT_HEADERS, comparaison.rows(), filename, "Changements", COLUMN_WIDTHS
        )
