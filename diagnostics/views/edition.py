"""Pages that change a diagnostic, and its change history (Équipe ville and Administrateur).

Who: the rule of every page that changes a diagnostic (the indicators' forms too):
anonymous visitors are sent to the login page; an account that may read the edition but
not edit it gets a 403, one that may not read it (a partner on a draft) a 404, as for an
edition that does not exist. Views stay thin: the operations are in `diagnostics.editing`,
the reading of the history in `diagnostics.history`, the forms in
`diagnostics.forms.edition`.

After a change, the person goes back where they came from (`retour`, a path of this
site) or to the pilier page, at the changed object.
"""

from django import forms as django_forms
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import FormView

from .. import editing, kinds
from ..access import can_edit, visible_diagnostics
from ..editing import short
from ..forms import edition as forms
from ..history import reading as history
from ..models import Pilier, SousTheme, Theme
from .mixins import DiagnosticAccessMixin

# Who may edit, and what the URL names ------------------------------------------------


class EditorMixin(DiagnosticAccessMixin):
    """The pages that change a diagnostic: the URL's diagnostic and object as for reading
    (`DiagnosticAccessMixin`: login page, or 404 for who may not read it), then `can_edit`
    (403), then the handler.
    Adds the breadcrumb (`fil`) and the way back after a change (`retour`)."""

    permission = staticmethod(can_edit)
    changes_contents = True
    permission_denied_message = (
        "Seules l'équipe ville et les administrateurs du contrat modifient ce diagnostic."
    )

    def get_context_data(self, **kwargs):
        kwargs.setdefault("fil", self.fil())
        return super().get_context_data(**kwargs)

    def fil(self):
        """The breadcrumb above the page's own name: [(label, url)]."""
        return [
            ("Accueil", reverse("home")),
            (self.diagnostic.titre, self.diagnostic.get_absolute_url()),
        ]

    def pilier_fil(self, pilier):
        return [
            *EditorMixin.fil(self),
            (f"Pilier {pilier.numero}", pilier.get_absolute_url()),
        ]

    # Where to go after a change.

    def retour(self):
        """The page the person came from (a path of this site), or None."""
        url = self.request.POST.get("retour") or self.request.GET.get("retour")
        if (
            url
            and url.startswith("/")
            and url_has_allowed_host_and_scheme(
                url, allowed_hosts={self.request.get_host()}, require_https=self.request.is_secure()
            )
        ):
            return url
        return None

    def back_to(self, default, anchor=None):
        url = self.retour() or default
        return f"{url}#{anchor}" if anchor and "#" not in url else url


class ElementMixin(EditorMixin):
    """An item of the URL's diagnostic: `nature` (difficultes, indicateurs) and `pk`."""

    related = ("sous_theme__theme__pilier", "theme__pilier")
    not_found_message = "Cet élément n'existe pas dans ce diagnostic."

    def get_model(self):
        self.kind = self.kwargs["nature"]
        self.model = self.kind.model
        return self.model

    def resolved(self):
        self.theme = self.object.theme_effectif
        self.pilier = self.theme.pilier
        self.nom = self.kind.nom
        self.share_diagnostic(self.theme, self.pilier, self.object.sous_theme)

    def fil(self):
        fil = self.pilier_fil(self.pilier)
        if self.object.sous_theme_id:
            sous_theme = self.object.sous_theme
            fil.append((sous_theme.libelle, sous_theme.get_absolute_url()))
        return fil

    def anchor(self):
        return f"{self.kind.slug}-{self.object.pk}"

    def parent_anchor(self):
        if self.object.sous_theme_id:
            return f"sous-theme-{self.object.sous_theme_id}"
        return f"theme-{self.object.theme_id}"

    def get_context_data(self, **kwargs):
        kwargs.setdefault("element", self.object)
        kwargs.setdefault("nom", self.nom)
        kwargs.setdefault("kind", self.kind)
        return super().get_context_data(**kwargs)


class PilierMixin(EditorMixin):
    """A pilier of the URL's diagnostic, by its numéro."""

    model = Pilier
    url_lookups = {"numero": "numero"}
    not_found_message = "Ce pilier n'existe pas dans ce diagnostic."

    def resolved(self):
        self.pilier = self.object
        self.nom = kinds.of(Pilier).nom

    def fil(self):
        return self.pilier_fil(self.pilier)

    def anchor(self):
        return None


class ThemeMixin(EditorMixin):
    model = Theme
    related = ("pilier",)
    not_found_message = "Ce thème n'existe pas dans ce diagnostic."

    def resolved(self):
        self.pilier = self.object.pilier
        self.nom = kinds.of(Theme).nom
        self.share_diagnostic(self.pilier)

    def fil(self):
        return self.pilier_fil(self.pilier)

    def anchor(self):
        return f"theme-{self.object.pk}"


class SousThemeMixin(EditorMixin):
    model = SousTheme
    related = ("theme__pilier",)
    not_found_message = "Ce sous-thème n'existe pas dans ce diagnostic."

    def resolved(self):
        self.theme = self.object.theme
        self.pilier = self.theme.pilier
        self.nom = kinds.of(SousTheme).nom
        self.share_diagnostic(self.theme, self.pilier)

    def fil(self):
        return [
            *self.pilier_fil(self.pilier),
            (self.object.libelle, self.object.get_absolute_url()),
        ]

    def anchor(self):
        return f"sous-theme-{self.object.pk}"


# Forms --------------------------------------------------------------------------------


class EditFormView(FormView):
    """A form that performs one operation of `diagnostics.editing`.

    Subclasses set `titre`, `bouton`, and implement `perform(form)` (returns what the
    success message and URL need) and `success_url_for(result)`.
    """

    template_name = "diagnostics/edition/formulaire.html"
    titre = ""
    bouton = "Enregistrer"
    introduction = ""
    danger = False  # a destructive action (red button)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        version = getattr(getattr(self, "object", None), "version", None)
        if version is not None and issubclass(self.get_form_class(), forms.VersionedForm):
            kwargs.setdefault("current_version", version)
        return kwargs

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            titre=self.get_titre(),
            bouton=self.bouton,
            introduction=self.get_introduction(),
            danger=self.danger,
            retour=self.retour() or "",
            annuler_url=self.back_to(self.cancel_url(), self.anchor()),
            **kwargs,
        )

    def get_titre(self):
        return self.titre

    def get_introduction(self):
        return self.introduction

    def cancel_url(self):
        return self.pilier.get_absolute_url()

    def form_valid(self, form):
        try:
            result = self.perform(form)
        except editing.StaleEdit as stale:
            return self.stale_response(form, stale)
        except ValidationError as error:
            form.add_validation_error(error)
            return self.form_invalid(form)
        messages.success(self.request, self.success_message(result))
        return redirect(self.success_url_for(result))

    def stale_response(self, form, stale):
        """The form again, with the other person's values and the current version."""
        par, le = history.last_change(stale.model, stale.pk)
        context = {"supprime_par": (par, le)} if stale.current is None else {}
        if stale.current is not None:
            form.show_stale(stale.current, par, le)
        return self.render_to_response(self.get_context_data(form=form, **context))


class ElementCreateView(EditorMixin, EditFormView):
    """Add a difficulté or an indicateur to a sous-thème, or at a thème's own level."""

    bouton = "Ajouter"
    not_found_message = "Cet emplacement n'existe pas dans ce diagnostic."

    def get_model(self):
        """The level the item is added to: a thème or a sous-thème."""
        self.kind = self.kwargs["nature"]
        self.model = self.kind.model
        return self.kwargs["niveau"].model

    def get_object_queryset(self, model):
        return model.objects.select_related("theme__pilier" if model is SousTheme else "pilier")

    def resolved(self):
        self.parent = self.object
        self.object = None  # the item, created by the form
        self.pilier = (
            self.parent.theme.pilier if isinstance(self.parent, SousTheme) else self.parent.pilier
        )
        self.nom = self.kind.nom
        self.share_diagnostic(self.pilier)

    def get_form_class(self):
        return forms.element_form_class(self.model)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        field = "sous_theme" if isinstance(self.parent, SousTheme) else "theme"
        kwargs.update(diagnostic=self.diagnostic, instance=self.model(**{field: self.parent}))
        return kwargs

    def get_titre(self):
        lieu = (
            f"au sous-thème « {self.parent.libelle} »"
            if isinstance(self.parent, SousTheme)
            else f"au niveau du thème « {self.parent.libelle} »"
        )
        return f"Ajouter {self.nom.un} {lieu}"

    def fil(self):
        fil = self.pilier_fil(self.pilier)
        if isinstance(self.parent, SousTheme):
            fil.append((self.parent.libelle, self.parent.get_absolute_url()))
        return fil

    def anchor(self):
        prefix = "sous-theme" if isinstance(self.parent, SousTheme) else "theme"
        return f"{prefix}-{self.parent.pk}"

    def perform(self, form):
        element = form.save(commit=False)
        return editing.create(element, self.request.user, quartiers=form.cleaned_data["quartiers"])

    def success_message(self, element):
        return (
            f"{self.nom.un.capitalize()} a été ajouté{self.nom.e} : « {short(element.libelle)} »."
        )

    def success_url_for(self, element):
        return self.back_to(self.pilier.get_absolute_url(), f"{self.kind.slug}-{element.pk}")


class ElementUpdateView(ElementMixin, EditFormView):
    """Edit an item. Saving an item a colleague deleted meanwhile shows the form again,
    with the typed text and who deleted it (`supprime_par`), instead of a 404."""

    bouton = "Enregistrer les modifications"
    deleted = False

    def resolve(self):
        try:
            return super().resolve()
        except Http404:
            if self.request.method != "POST" or not self.resolve_deleted():
                raise
            return self.diagnostic

    def resolve_deleted(self):
        """The item as it was when deleted, if it was an item of the URL's diagnostic."""
        diagnostic = (
            visible_diagnostics(self.request.user)
            .select_related("contrat")
            .filter(slug=self.kwargs[self.slug_url_kwarg])
            .first()
        )
        if diagnostic is None:
            return False
        record = (
            history.history_model(self.model)
            .objects.filter(id=self.kwargs["pk"], diagnostic_id=diagnostic.pk)
            .order_by("-history_id")
            .first()
        )
        if record is None or record.history_type != "-":
            return False
        self.diagnostic, self.object, self.deleted = diagnostic, record.instance, True
        return True

    def resolved(self):
        if not self.deleted:
            return super().resolved()
        self.nom = self.kind.nom
        try:
            self.theme = self.object.theme_effectif
            self.pilier = self.theme.pilier
        except ObjectDoesNotExist:  # deleted with it
            self.theme = self.pilier = None

    def fil(self):
        if not self.deleted:
            return super().fil()
        fil = EditorMixin.fil(self)
        if self.pilier is not None:
            fil.append((f"Pilier {self.pilier.numero}", self.pilier.get_absolute_url()))
        return fil

    def cancel_url(self):
        if self.pilier is None:
            return self.diagnostic.get_absolute_url()
        return super().cancel_url()

    def post(self, request, *args, **kwargs):
        if not self.deleted:
            return super().post(request, *args, **kwargs)
        form = self.get_form()
        form.is_valid()  # the typed text is kept, whatever its errors
        par, le = history.last_change(self.model, self.object.pk)
        return self.render_to_response(self.get_context_data(form=form, supprime_par=(par, le)))

    def get_form_class(self):
        return forms.element_form_class(self.model)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "diagnostic": self.diagnostic, "instance": self.object}

    def get_titre(self):
        return f"Modifier {self.nom.le}"

    def perform(self, form):
        element = form.save(commit=False)
        return editing.save_versioned(
            element,
            form.cleaned_data["version"],
            self.request.user,
            fields=["libelle"],
            quartiers=form.cleaned_data["quartiers"],
        )

    def success_message(self, element):
        return f"{self.nom.le.capitalize()} a été modifié{self.nom.e}."

    def success_url_for(self, element):
        return self.back_to(self.pilier.get_absolute_url(), self.anchor())


class ElementMoveView(ElementMixin, EditFormView):
    form_class = forms.MoveElementForm
    bouton = "Déplacer"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "element": self.object, "diagnostic": self.diagnostic}

    def get_titre(self):
        return f"Déplacer {self.nom.le}"

    def get_introduction(self):
        return f"« {short(self.object.libelle, 200)} »"

    def perform(self, form):
        destination = form.cleaned_data["destination"]
        editing.move_element(
            self.object, destination, self.request.user, form.cleaned_data["version"]
        )
        return destination

    def success_message(self, destination):
        return (
            f"{self.nom.le.capitalize()} a été déplacé{self.nom.e} vers "
            f"« {short(destination.libelle)} »."
        )

    def success_url_for(self, destination):
        pilier = (
            destination.theme.pilier if isinstance(destination, SousTheme) else destination.pilier
        )
        return f"{pilier.get_absolute_url()}#{self.anchor()}"


class ElementSplitView(ElementMixin, EditFormView):
    form_class = forms.SplitForm
    bouton = "Scinder"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "element": self.object}

    def get_titre(self):
        return f"Scinder {self.nom.le}"

    def get_introduction(self):
        return (
            f"Texte actuel : « {self.object.libelle} ». Écrivez une ligne par {self.nom.singulier}."
        )

    def perform(self, form):
        return editing.split_element(
            self.object,
            form.cleaned_data["libelles"],
            self.request.user,
            form.cleaned_data["version"],
        )

    def success_message(self, parts):
        return f"{self.nom.le.capitalize()} a été scindé{self.nom.e} en {len(parts)}."

    def success_url_for(self, parts):
        return self.back_to(self.pilier.get_absolute_url(), self.anchor())


class ElementMergeView(ElementMixin, EditFormView):
    form_class = forms.MergeForm
    bouton = "Fusionner"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "element": self.object}

    def get_titre(self):
        return f"Fusionner {self.nom.le} avec d'autres"

    def get_introduction(self):
        return (
            f"« {short(self.object.libelle, 200)} » sera conservé{self.nom.e} avec sa "
            "provenance ; les éléments cochés, du même niveau, seront supprimés après avoir "
            "été fusionnés dans celui-ci (leur suppression reste visible et réversible dans "
            "l'historique)."
        )

    def perform(self, form):
        return editing.merge_elements(
            self.object,
            form.cleaned_data["version"],
            form.cleaned_data["autres"],
            form.cleaned_data["libelle"],
            self.request.user,
        )

    def stale_response(self, form, stale):
        if stale.pk == self.object.pk:
            return super().stale_response(form, stale)
        # One of the items checked changed or went meanwhile: the list again, fresh,
        # with that item unchecked.
        data = self.request.POST.copy()
        data.setlist(
            "autres", [v for v in data.getlist("autres") if v.split(":")[0] != str(stale.pk)]
        )
        kwargs = {**self.get_form_kwargs(), "data": data}
        form = self.get_form_class()(**kwargs)
        form.is_valid()
        par, _ = history.last_change(stale.model, stale.pk)
        if stale.current is None:
            message = f"Un des éléments cochés a été supprimé entre-temps par {par}."
        else:
            message = (
                f"« {short(stale.current.libelle)} » a été modifié entre-temps par {par} : "
                "vérifiez son texte et cochez-le à nouveau."
            )
        form.add_error("autres", message)
        return self.render_to_response(self.get_context_data(form=form))

    def success_message(self, element):
        return f"Les éléments ont été fusionnés : « {short(element.libelle)} »."

    def success_url_for(self, element):
        return self.back_to(self.pilier.get_absolute_url(), self.anchor())


class ListedDeleteForm(forms.DeleteForm):
    """The confirmation carries the fingerprint of what it listed (`empreinte`): the
    deletion takes exactly that, or asks again (`editing.DeleteChanged`)."""

    empreinte = django_forms.CharField(
        widget=django_forms.HiddenInput, required=False, max_length=64
    )


class DeleteMixin:
    """The confirmation of a deletion, saying what goes with it."""

    form_class = ListedDeleteForm
    template_name = "diagnostics/edition/supprimer.html"
    danger = True

    def get_titre(self):
        return f"Supprimer {self.nom.le}"

    _resume = None

    def resume(self):
        """What goes with the object (editing.DeleteSummary), read once per request."""
        if self._resume is None:
            self._resume = editing.delete_summary(self.object)
        return self._resume

    def get_initial(self):
        return {**super().get_initial(), "empreinte": self.resume().empreinte}

    def get_context_data(self, **kwargs):
        return super().get_context_data(objet=self.object, resume=self.resume(), **kwargs)

    def perform(self, form):
        try:
            editing.delete(
                self.object,
                self.request.user,
                form.cleaned_data["version"],
                listed=form.cleaned_data.get("empreinte") or None,
            )
        except editing.DeleteChanged:
            # Asked again, with what goes with it now.
            data = form.data.copy()
            self._resume = None
            data["empreinte"] = self.resume().empreinte
            form.data = data
            raise

    def success_message(self, result):
        return (
            f"{self.nom.le.capitalize()} « {short(self.object.libelle)} » a été "
            f"supprimé{self.nom.e}. Sa suppression peut être annulée depuis les dernières "
            "modifications."
        )

    def success_url_for(self, result):
        return self.back_to(self.pilier.get_absolute_url(), self.parent_anchor())


class ElementDeleteView(ElementMixin, DeleteMixin, EditFormView):
    bouton = "Confirmer la suppression"


class OrderView(View):
    """Move up or down among its siblings (POST `sens` = "haut" or "bas")."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        sens = request.POST.get("sens")
        if sens not in ("haut", "bas"):
            return HttpResponseBadRequest(render_to_string("400.html", request=request))
        move = editing.move_up if sens == "haut" else editing.move_down
        try:
            moved = move(self.object, request.user)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            moved = None
        libelle = short(self.object.libelle)
        if moved:
            direction = "monté" if sens == "haut" else "descendu"
            messages.success(request, f"« {libelle} » a été {direction}{self.nom.e}.")
        elif moved is False:
            position = "en haut" if sens == "haut" else "en bas"
            messages.info(request, f"« {libelle} » est déjà {position} de la liste.")
        return redirect(self.back_to(self.pilier.get_absolute_url(), self.anchor()))


class ElementOrderView(ElementMixin, OrderView):
    pass


# Piliers, thèmes and sous-thèmes ------------------------------------------------------


class NodeUpdateView(EditFormView):
    bouton = "Enregistrer le libellé"

    def get_form_class(self):
        return forms.node_form_class(self.model)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.object}

    def get_titre(self):
        return f"Modifier le libellé {self.nom.du}"

    def perform(self, form):
        node = form.save(commit=False)
        return editing.save_versioned(
            node, form.cleaned_data["version"], self.request.user, fields=["libelle"]
        )

    def success_message(self, node):
        return f"Le libellé {self.nom.du} a été modifié."

    def success_url_for(self, node):
        return self.back_to(self.pilier.get_absolute_url(), self.anchor())


class PilierUpdateView(PilierMixin, NodeUpdateView):
    pass


class ThemeUpdateView(ThemeMixin, NodeUpdateView):
    pass


class SousThemeUpdateView(SousThemeMixin, NodeUpdateView):
    pass


class NodeCreateView(EditFormView):
    """Add a thème to a pilier, or a sous-thème to a thème."""

    bouton = "Ajouter"
    created_model = None

    def get_form_class(self):
        return forms.node_form_class(self.created_model)

    def get_form_kwargs(self):
        field = "pilier" if self.created_model is Theme else "theme"
        return {**super().get_form_kwargs(), "instance": self.created_model(**{field: self.object})}

    def get_titre(self):
        lieu = "au pilier" if self.created_model is Theme else "au thème"
        un = kinds.of(self.created_model).nom.un
        return f"Ajouter {un} {lieu} « {short(self.object.libelle)} »"

    def perform(self, form):
        return editing.create(form.save(commit=False), self.request.user)

    def success_message(self, node):
        un = kinds.of(self.created_model).nom.un
        return f"{un.capitalize()} a été ajouté : « {short(node.libelle)} »."

    def success_url_for(self, node):
        prefix = "theme" if self.created_model is Theme else "sous-theme"
        return self.back_to(self.pilier.get_absolute_url(), f"{prefix}-{node.pk}")


class ThemeCreateView(PilierMixin, NodeCreateView):
    created_model = Theme


class SousThemeCreateView(ThemeMixin, NodeCreateView):
    created_model = SousTheme


class ThemeDeleteView(ThemeMixin, DeleteMixin, EditFormView):
    bouton = "Confirmer la suppression"

    def parent_anchor(self):
        return None


class SousThemeDeleteView(SousThemeMixin, DeleteMixin, EditFormView):
    bouton = "Confirmer la suppression"

    def cancel_url(self):
        return self.object.get_absolute_url()

    def parent_anchor(self):
        return f"theme-{self.object.theme_id}"

    def success_url_for(self, result):
        # The sous-thème's own page no longer exists: back to its pilier.
        retour = self.retour()
        if retour and retour.startswith(self.object.get_absolute_url()):
            retour = None
        return f"{retour or self.pilier.get_absolute_url()}#{self.parent_anchor()}"


class SousThemeMoveView(SousThemeMixin, EditFormView):
    form_class = forms.MoveSousThemeForm
    bouton = "Déplacer"

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "sous_theme": self.object,
            "diagnostic": self.diagnostic,
        }

    def get_titre(self):
        return f"Déplacer le sous-thème « {short(self.object.libelle)} »"

    def get_introduction(self):
        nombre = self.object.difficultes.count() + self.object.indicateurs.count()
        return f"Ses éléments ({nombre}) le suivent dans le nouveau thème."

    def perform(self, form):
        theme = form.cleaned_data["theme"]
        editing.move_sous_theme(self.object, theme, self.request.user, form.cleaned_data["version"])
        return theme

    def success_message(self, theme):
        return f"Le sous-thème a été déplacé vers le thème « {short(theme.libelle)} »."

    def success_url_for(self, theme):
        return f"{theme.pilier.get_absolute_url()}#{self.anchor()}"


class ThemeOrderView(ThemeMixin, OrderView):
    pass


class SousThemeOrderView(SousThemeMixin, OrderView):
    pass
