"""The change history of a diagnostic's pages: the versions of an object, the restoration of
a version or of a deleted object, the latest changes (Équipe ville and Administrateur).

Views stay thin: the reading of the history is in `diagnostics.history.reading`, the
restoration in `diagnostics.history.restore`."""

from django.http import Http404
from django.urls import reverse
from django.views.generic import TemplateView

from .. import access, kinds
from ..editing import short
from ..forms import edition as forms
from ..history import reading as history
from ..history import recent, restore
from ..history.filters import ModificationsFilterSet
from ..models import Pilier, SousTheme, Theme
from .edition import EditFormView, EditorMixin, PilierMixin
from .lists import query_string_without_page

# History ------------------------------------------------------------------------------


class HistoryView(TemplateView):
    """The versions of one object: who, when, why, what changed; "Restaurer" buttons.

    Read in the history tables: the object may have been deleted since. `kind`: the kind
    of the object (a `diagnostics.kinds.Kind`)."""

    template_name = "diagnostics/historique.html"
    kind = None

    def records(self):
        return list(
            history.records_in_diagnostic(self.kind.model, self.diagnostic)
            .filter(id=self.object_id())
            .select_related("history_user")
        )

    def object_id(self):
        return self.object.pk

    def get_context_data(self, **kwargs):
        records = self.records()
        if not records:
            raise Http404("Aucun historique pour cet élément.")
        versions = history.versions(records)
        latest = versions[0].record
        return super().get_context_data(
            versions=versions,
            supprime=latest.history_type == "-",
            libelle=latest.libelle,
            nom=self.kind.nom,
            modele=self.kind.slug,
            **kwargs,
        )


class ElementHistoryView(EditorMixin, HistoryView):
    """The history of an item, deleted ones included (read from the history tables)."""

    changes_contents = False  # a page to read (its restorations POST)

    def resolved(self):
        self.kind = self.kwargs["nature"]

    def object_id(self):
        return self.kwargs["pk"]

    def fil(self):
        return [*super().fil(), ("Dernières modifications", self.modifications_url())]

    def modifications_url(self):
        return reverse("diagnostics:modifications", args=[self.diagnostic.slug])


class ThemeHistoryView(EditorMixin, HistoryView):
    changes_contents = False  # a page to read (its restorations POST)

    def resolved(self):
        self.kind = kinds.of(Theme)

    def object_id(self):
        return self.kwargs["pk"]

    def fil(self):
        return [
            *super().fil(),
            (
                "Dernières modifications",
                reverse("diagnostics:modifications", args=[self.diagnostic.slug]),
            ),
        ]


class SousThemeHistoryView(ThemeHistoryView):
    def resolved(self):
        self.kind = kinds.of(SousTheme)


class PilierHistoryView(PilierMixin, HistoryView):
    changes_contents = False  # a page to read (its restorations POST)

    def resolved(self):
        super().resolved()
        self.kind = kinds.of(Pilier)


class RestoreView(EditorMixin, EditFormView):
    """Confirm, then restore an object to one of its versions, or a deleted object."""

    form_class = forms.RestoreForm
    template_name = "diagnostics/historique_restaurer.html"

    def resolved(self):
        self.kind = self.kwargs["modele"]
        self.nom = self.kind.nom
        self.record = (
            history.records_in_diagnostic(self.kind.model, self.diagnostic)
            .filter(history_id=self.kwargs["history_id"])
            .select_related("history_user")
            .first()
        )
        if self.record is None:
            raise Http404("Cette version n'existe pas dans ce diagnostic.")
        self.deleted = self.record.history_type == "-"
        self.load_records()

    def load_records(self):
        """All the versions of the object; what it is now is its latest (every change
        writes one)."""
        self.all_records = list(
            history.history_model(self.kind.model)
            .objects.filter(id=self.record.id)
            .select_related("history_user")
        )
        self.latest = max(self.all_records, key=lambda record: record.history_id)
        self.exists = self.latest.history_type != "-"

    def get_form_kwargs(self):
        kwargs = {**super().get_form_kwargs(), "deleted": self.deleted}
        if self.exists:
            kwargs["current_version"] = self.latest.version
        return kwargs

    def get_titre(self):
        if self.deleted:
            return f"Restaurer {self.nom.le} supprimé{self.nom.e}"
        return f"Restaurer une version {self.nom.du}"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            record=self.record,
            deleted=self.deleted,
            nom=self.nom,
            auteur=history.record_author(self.record),
            changements=history.restore_preview(self.record, self.all_records),
            avec=self.deleted_with(),
            history_url=self.history_url(),
            **kwargs,
        )

    def deleted_with(self):
        """How many rows were deleted together with a deleted object (they come back too)."""
        if not self.deleted or not kinds.below(self.kind):
            return None
        return restore.deleted_with_summary(self.record)

    def history_url(self):
        return history.history_url(
            self.diagnostic, self.kind.model, self.record.id, getattr(self.record, "numero", None)
        )

    def fil(self):
        return [
            *super().fil(),
            (
                "Dernières modifications",
                reverse("diagnostics:modifications", args=[self.diagnostic.slug]),
            ),
        ]

    def anchor(self):
        return None

    def cancel_url(self):
        return self.history_url()

    @property
    def bouton(self):
        return "Restaurer"

    def perform(self, form):
        if self.deleted:
            return restore.restore_deleted(self.record, self.request.user)
        return restore.restore_version(self.record, self.request.user, form.cleaned_data["version"])

    def form_valid(self, form):
        if not self.deleted and not self.exists:
            form.add_error(
                None,
                f"{self.nom.ce.capitalize()} a été supprimé{self.nom.e} depuis : restaurez "
                "d'abord sa suppression, depuis les dernières modifications.",
            )
            return self.form_invalid(form)
        return super().form_valid(form)

    def stale_response(self, form, stale):
        form.add_error(
            None,
            f"{self.nom.ce.capitalize()} a été modifié{self.nom.e} depuis l'affichage de cette "
            "page : vérifiez ci-dessous ce que la restauration changerait, puis confirmez à "
            "nouveau.",
        )
        if stale.current is not None:
            form.show_stale(stale.current, *history.last_change(stale.model, stale.pk))
        self.load_records()
        return self.render_to_response(self.get_context_data(form=form))

    def success_message(self, obj):
        if self.deleted:
            return (
                f"{self.nom.le.capitalize()} « {short(obj.libelle)} » a été restauré{self.nom.e}."
            )
        return (
            f"{self.nom.le.capitalize()} a retrouvé sa version du "
            f"{self.record.history_date:%d/%m/%Y}."
        )

    def success_url_for(self, obj):
        return self.history_url()


class ModificationsView(EditorMixin, TemplateView):
    """The latest changes of a diagnostic, one line per action (an edit, a move, an
    import, its undo…) on its levels, items and values, with filters."""

    changes_contents = False  # a page to read (its restorations POST)

    template_name = "diagnostics/historique_modifications.html"
    paginate_by = 50

    def get_context_data(self, **kwargs):
        filterset = ModificationsFilterSet(
            self.request.GET or None,
            queryset=history.history_model(Theme).objects.none(),
            diagnostic=self.diagnostic,
        )
        page = None
        if not filterset.is_bound or filterset.is_valid():
            found = recent.recent_actions(
                self.diagnostic,
                filterset.filter_queryset if filterset.is_bound else lambda queryset: queryset,
                nature=filterset.asked_nature(),
            )
            page = recent.ActionsPaginator(found, self.paginate_by).get_page(
                self.request.GET.get("page")
            )
            page.object_list = recent.actions(
                page.object_list,
                self.diagnostic,
                import_links=access.can_administer(self.request.user, self.diagnostic),
            )
        return super().get_context_data(
            filter=filterset,
            page_obj=page,
            query_string=query_string_without_page(self.request),
            **kwargs,
        )
