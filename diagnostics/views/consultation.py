"""Consultation pages of a diagnostic. Views stay thin: queries and rules live in the domain
modules."""

from django.conf import settings
from django.views.generic import DetailView, TemplateView

from .. import queries
from ..models import CelluleSource, Pilier, SousTheme
from .mixins import DiagnosticAccessMixin

# Consultation pages ---------------------------------------------------------------------


class DiagnosticView(DiagnosticAccessMixin, TemplateView):
    """A diagnostic in summary: its quartiers, its piliers and their thèmes with counts."""

    template_name = "diagnostics/diagnostic.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            piliers=queries.diagnostic_summary(self.diagnostic),
            colonnes=queries.summary_kinds(),
            quartiers=list(self.diagnostic.quartiers.prefetch_related("communes")),
            **kwargs,
        )


class PilierView(DiagnosticAccessMixin, DetailView):
    """Everything of a pilier, in order: thèmes, sous-thèmes, difficultés, indicateurs."""

    model = Pilier
    url_lookups = {"numero": "numero"}
    not_found_message = "Ce pilier n'existe pas dans ce diagnostic."
    context_object_name = "pilier"
    template_name = "diagnostics/pilier.html"

    def get_context_data(self, **kwargs):
        themes = queries.pilier_tree(self.object, self.request.user)
        return super().get_context_data(themes=themes, **kwargs)


class SousThemeView(DiagnosticAccessMixin, DetailView):
    """A sous-thème: its items, the quartiers they concern and where they come from."""

    model = SousTheme
    related = ("theme__pilier", "source__import_source")
    not_found_message = "Ce sous-thème n'existe pas dans ce diagnostic."
    context_object_name = "sous_theme"
    template_name = "diagnostics/sous_theme.html"

    def get_context_data(self, **kwargs):
        sous_theme = queries.load_sous_theme_contents(
            self.object, self.diagnostic, self.request.user
        )
        return super().get_context_data(
            quartiers=queries.quartiers_of(sous_theme.loaded_elements),
            sources=queries.sources_of(sous_theme.loaded_elements),
            **kwargs,
        )


class SourceView(DiagnosticAccessMixin, DetailView):
    """A cell of an imported table: its original text, its file, what was made from it."""

    model = CelluleSource
    diagnostic_path = "import_source__diagnostic"
    not_found_message = "Cette cellule source n'existe pas dans ce diagnostic."
    context_object_name = "cellule"
    template_name = "diagnostics/source.html"

    related = ("import_source__importe_par",)

    def get_context_data(self, **kwargs):
        groupes, niveaux, autres_cellules = queries.cell_contents(self.object)
        return super().get_context_data(
            groupes=groupes,
            niveaux=niveaux,
            autres_cellules=autres_cellules,
            **kwargs,
        )


class AccessibiliteView(TemplateView):
    """The accessibility statement (RGAA), public."""

    template_name = "accessibilite.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            contact_email=settings.ACCESSIBILITE_CONTACT_EMAIL, **kwargs
        )
