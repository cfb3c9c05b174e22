"""The access rule (`diagnostics.access`) on the pages of a diagnostic, in one mixin.

Pages under /diagnostics/<slug>/ (and /indicateurs/<slug>/) follow one rule:
- a user who may read the diagnostic sees the page;
- an anonymous visitor who may not is sent to the login page (`?next=` back here);
- a signed-in user who may not gets a 404, as for an unknown page: a draft is not
  revealed to those who may not see it;
- an object of the URL that is not in the URL's diagnostic is a 404.
Pages that change something also ask a `permission` of the user on the URL's diagnostic
(`can_edit`, `can_administer`: a role on its contract): a user who may read but not change
gets a 403, an anonymous visitor the login page. On a frozen
edition, a page that changes its contents (`changes_contents`), and any POST, is a 403
that says the edition is frozen (`editions.states.ensure_modifiable`).
"""

from functools import reduce

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from ..access import visible_diagnostics
from ..editions.states import ensure_modifiable


class DiagnosticAccessMixin:
    """Resolves the URL's `<slug>` into `self.diagnostic` and, for a page of one object
    (`model`), the object into `self.object`, in one query, before any handler runs.

    - `model`: the kind of object the URL names (or `get_model()`), None for a page of the
      diagnostic itself; `url_lookups`: URL keyword argument -> model field;
    - `diagnostic_path`: the lookup from the model to its Diagnostic ("diagnostic" for the
      levels and items, which carry it; "indicateur__diagnostic" for a measure);
    - `related`: what else the page shows of the object (select_related);
    - `permission(user, diagnostic)`: asked on top of reading; `permission_anywhere(user)`
      (whether the user holds it on some contract), when set, is asked before anything of
      the URL is looked up (a partner learns nothing, not even whether a draft exists).

    The check comes first, so that a POST to a page the user may not see is refused like a
    GET (login or 404) rather than answered 405. `diagnostic` is added to the context.
    """

    slug_url_kwarg = "slug"
    model = None
    object = None
    url_lookups = {"pk": "pk"}
    diagnostic_path = "diagnostic"
    related = ()
    not_found_message = "Cette page n'existe pas dans ce diagnostic."
    permission = None
    permission_anywhere = None
    permission_denied_message = "Cette page est réservée à l'équipe ville et aux administrateurs."
    changes_contents = False

    def dispatch(self, request, *args, **kwargs):
        if self.permission_anywhere is not None and not self.permission_anywhere(request.user):
            return self.refuse_without_permission()
        self.diagnostic = self.resolve()
        if self.diagnostic is None:
            return self.refuse()
        if self.permission is not None and not self.permission(request.user, self.diagnostic):
            return self.refuse_without_permission()
        if self.changes_contents or request.method not in ("GET", "HEAD", "OPTIONS"):
            try:
                ensure_modifiable(self.diagnostic)
            except ValidationError as error:
                raise PermissionDenied(error.messages[0]) from error
        self.resolved()
        return super().dispatch(request, *args, **kwargs)

    def refuse_without_permission(self):
        """The login page for an anonymous visitor, a 403 for a signed-in one."""
        if not self.request.user.is_authenticated:
            return redirect_to_login(self.request.get_full_path())
        raise PermissionDenied(self.permission_denied_message)

    def get_model(self):
        return self.model

    def get_object_queryset(self, model):
        return model.objects.all()

    def resolve(self):
        """The diagnostic of the URL if this user may read it, else None; sets
        `self.object` when the page is about one object (Http404 when that object is not
        in the diagnostic)."""
        visible = visible_diagnostics(self.request.user)
        slug = self.kwargs[self.slug_url_kwarg]
        model = self.get_model()
        if model is None:
            return visible.select_related("contrat").filter(slug=slug).first()
        path = self.diagnostic_path
        self.object = (
            self.get_object_queryset(model)
            .select_related(f"{path}__contrat", *self.related)
            .filter(
                **{f"{path}__in": visible, f"{path}__slug": slug},
                **{field: self.kwargs[kwarg] for kwarg, field in self.url_lookups.items()},
            )
            .first()
        )
        if self.object is not None:
            return reduce(getattr, path.split("__"), self.object)
        if visible.filter(slug=slug).exists():
            raise Http404(self.not_found_message)
        return None

    def resolved(self):
        """Called once the diagnostic (and the object) are known, before the handler."""

    def share_diagnostic(self, *objects):
        """Give these objects of the page (the object's parents) the diagnostic already
        loaded, so that their links cost no query."""
        for obj in objects:
            if obj is not None and obj.diagnostic_id == self.diagnostic.pk:
                obj.diagnostic = self.diagnostic

    def refuse(self):
        if not self.request.user.is_authenticated:
            return redirect_to_login(self.request.get_full_path())
        raise Http404("Ce diagnostic n'existe pas ou ne vous est pas accessible.")

    def get_object(self, queryset=None):
        return self.object

    def get_context_data(self, **kwargs):
        kwargs.setdefault("diagnostic", self.diagnostic)
        return super().get_context_data(**kwargs)
