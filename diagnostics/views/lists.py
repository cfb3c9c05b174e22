"""Lists of items with their filters, their exports, and the search. Views stay thin: the
queries and rules live in the domain modules."""

from django.contrib.auth.views import redirect_to_login
from django.db.models import F, Prefetch
from django.db.models.functions import Coalesce
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView
from django_filters.views import FilterMixin, FilterView

from .. import exports, queries, search
from ..filters import DifficulteFilterSet, RechercheForm, in_diagnostic_order
from ..models import Difficulte, Quartier

# Lists, exports and search --------------------------------------------------------------


ELEMENT_RELATED = ("diagnostic", "sous_theme__theme__pilier", "theme__pilier")


def _place(path):
    """A column of the place of an item, by either path (sous-thème or thème)."""
    return Coalesce(F(f"sous_theme__theme__{path}"), F(f"theme__{path}"))


# What a list shows of the place of each item, read as columns (the joins that order the
# list) rather than as the ten objects of its path: diagnostic, pilier, thème (twice),
# sous-thème, source cell and import.
LIST_COLUMNS = {
    "place_diagnostic_slug": F("diagnostic__slug"),
    "place_diagnostic_titre": F("diagnostic__titre"),
    "place_pilier_numero": _place("pilier__numero"),
    "place_theme_id": _place("id"),
    "place_theme_libelle": _place("libelle"),
    "place_sous_theme_libelle": F("sous_theme__libelle"),
    "source_ligne": F("source__ligne"),
    "source_fichier": F("source__import_source__nom_fichier"),
}


def query_string_without_page(request):
    """The list's filters as a query string, to keep them in links (pagination, exports)."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


class ElementFilterMixin(FilterMixin):
    """The filtered items of a list: the access rule and the filters come from the FilterSet.

    An anonymous visitor who may read no diagnostic at all is sent to the login page.
    """

    model = None
    filterset_class = None

    def get_queryset(self):
        return in_diagnostic_order(
            self.model.objects.select_related(
                *ELEMENT_RELATED, "source__import_source"
            ).prefetch_related(Prefetch("quartiers", queryset=Quartier.objects.order_by("code")))
        )

    def load_filterset(self):
        """Sets `self.filterset`; returns a redirection to the login page, or None."""
        self.filterset = self.get_filterset(self.get_filterset_class())
        if not self.request.user.is_authenticated and not self.filterset.diagnostics_offered:
            return redirect_to_login(self.request.get_full_path())
        return None


class ElementListView(ElementFilterMixin, FilterView):
    """A list of items filtered by the URL's parameters, 50 per page.

    Invalid parameters: the form shows its errors and the list is empty. A page number
    out of range shows the last page.
    """

    paginate_by = 50
    context_object_name = "elements"
    export_url_name = None
    # Words of the page (see templates/diagnostics/_liste_elements.html).
    titre = nom = nom_pluriel = aucun = None

    def get(self, request, *args, **kwargs):
        refusal = self.load_filterset()
        if refusal is not None:
            return refusal
        valid = not self.filterset.is_bound or self.filterset.is_valid()
        self.object_list = self.filterset.qs if valid else self.filterset.queryset.none()
        return self.render_to_response(
            self.get_context_data(filter=self.filterset, object_list=self.object_list)
        )

    def get_queryset(self):
        return in_diagnostic_order(
            self.model.objects.annotate(**LIST_COLUMNS)
            .defer("created_at", "updated_at")
            .prefetch_related(Prefetch("quartiers", queryset=Quartier.objects.order_by("code")))
        )

    def paginate_queryset(self, queryset, page_size):
        """The page asked for (the last one when out of range), its items evaluated with
        the links of their place (`queries.attach_links`)."""
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get(self.page_kwarg))
        page.object_list = list(page.object_list)
        queries.attach_links(page.object_list)
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        query_string = query_string_without_page(self.request)
        suffix = f"?{query_string}" if query_string else ""
        exports_urls = {
            export_format: reverse(self.export_url_name, kwargs={"format": export_format}) + suffix
            for export_format in exports.FORMATS
        }
        return super().get_context_data(
            query_string=query_string,
            exports_urls=exports_urls,
            diagnostic=self.filterset.current_diagnostic,
            **kwargs,
        )


class ElementExportView(ElementFilterMixin, View):
    """The whole filtered list (every page) as a spreadsheet or a CSV file.

    Invalid parameters send back to the list, which shows the form's errors.
    """

    list_url_name = None
    basename = None
    sheet_title = None

    def get(self, request, *args, format, **kwargs):
        refusal = self.load_filterset()
        if refusal is not None:
            return refusal
        if self.filterset.is_bound and not self.filterset.is_valid():
            return redirect(f"{reverse(self.list_url_name)}?{query_string_without_page(request)}")
        diagnostic = self.filterset.current_diagnostic
        suffix = diagnostic.slug if diagnostic else timezone.localdate().isoformat()
        return exports.export_response(
            self.filterset.qs, format, f"{self.basename}-{suffix}", self.sheet_title
        )


class DifficulteListView(ElementListView):
    model = Difficulte
    filterset_class = DifficulteFilterSet
    template_name = "diagnostics/difficulte_list.html"
    export_url_name = "diagnostics:difficultes_export"
    titre = "Difficultés prégnantes"
    nom, nom_pluriel = "difficulté", "difficultés"
    aucun = "Aucune difficulté ne correspond à ces filtres."


class DifficulteExportView(ElementExportView):
    model = Difficulte
    filterset_class = DifficulteFilterSet
    list_url_name = "diagnostics:difficultes"
    basename = "difficultes"
    sheet_title = "Difficultés prégnantes"


class RechercheView(TemplateView):
    """Search in the libellés of the diagnostics the user may see, grouped by pilier."""

    template_name = "diagnostics/recherche.html"
    paginate_by = 30

    def get(self, request, *args, **kwargs):
        form = RechercheForm(request.GET or None, user=request.user)
        if not request.user.is_authenticated and not form.fields["diagnostic"].objects:
            return redirect_to_login(request.get_full_path())
        context = {
            "form": form,
            "query_string": query_string_without_page(request),
            "plusieurs_diagnostics": len(form.fields["diagnostic"].objects) > 1,
        }
        query = form.cleaned_data["q"].strip() if form.is_valid() else ""
        if query:
            context["mots_ignores"] = not search.query_words(query)
            hits = search.search(request.user, query, form.cleaned_data["diagnostic"])
            page = search.page_of_hits(hits, request.GET.get("page"), self.paginate_by)
            context.update(
                query=query, page_obj=page, groupes=search.group_by_pilier(page.object_list)
            )
        return self.render_to_response(self.get_context_data(**context))
