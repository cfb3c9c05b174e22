"""View mixins that apply the access rule (`diagnostics.access`) to the pages of a diagnostic.

Pages under /diagnostics/<slug>/ follow one rule:
- a user who may read the diagnostic sees the page;
- an anonymous visitor who may not is sent to the login page (`?next=` back here);
- a signed-in user who may not gets a 404, as for an unknown page: a draft is not
  revealed to those who may not see it.
"""

from functools import reduce

from django.contrib.auth.views import redirect_to_login
from django.http import Http404

from ..access import visible_diagnostics


class DiagnosticAccessMixin:
    """Resolves the URL's `<slug>` into `self.diagnostic` before any handler runs.

    The check comes first, so that a POST to a read-only page the user may not see is
    refused like a GET (login or 404) rather than answered 405.
    `diagnostic` is added to the template context.
    """

    slug_url_kwarg = "slug"

    def dispatch(self, request, *args, **kwargs):
        self.diagnostic = self.get_diagnostic()
        if self.diagnostic is None:
            return self.refuse()
        return super().dispatch(request, *args, **kwargs)

    def get_diagnostic(self):
        """The diagnostic of the URL if this user may read it, else None."""
        return (
            visible_diagnostics(self.request.user)
            .filter(slug=self.kwargs[self.slug_url_kwarg])
            .first()
        )

    def refuse(self):
        if not self.request.user.is_authenticated:
            return redirect_to_login(self.request.get_full_path())
        raise Http404("Ce diagnostic n'existe pas ou ne vous est pas accessible.")

    def get_context_data(self, **kwargs):
        kwargs.setdefault("diagnostic", self.diagnostic)
        return super().get_context_data(**kwargs)


class DiagnosticPartMixin(DiagnosticAccessMixin):
    """For a DetailView of a part of a diagnostic (pilier, sous-thème, source cell...).

    One query fetches the object together with its diagnostic, among the diagnostics the
    user may read. An object that does not belong to the URL's diagnostic is a 404 (or
    the login page for an anonymous visitor who may not read that diagnostic).

    - `diagnostic_path`: the lookup from the model to its Diagnostic, e.g.
      "theme__pilier__diagnostic";
    - `url_lookups`: URL keyword argument -> model field, e.g. {"numero": "numero"}.
    """

    diagnostic_path = None
    url_lookups = {"pk": "pk"}
    not_found_message = "Cette page n'existe pas dans ce diagnostic."

    def get_diagnostic(self):
        path = self.diagnostic_path
        self.object = (
            self.get_queryset()
            .select_related(path)
            .filter(
                **{
                    f"{path}__in": visible_diagnostics(self.request.user),
                    f"{path}__slug": self.kwargs[self.slug_url_kwarg],
                },
                **{field: self.kwargs[kwarg] for kwarg, field in self.url_lookups.items()},
            )
            .first()
        )
        if self.object is not None:
            return reduce(getattr, path.split("__"), self.object)
        if super().get_diagnostic() is not None:
            raise Http404(self.not_found_message)
        return None

    def get_object(self, queryset=None):
        return self.object
