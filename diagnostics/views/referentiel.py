"""The page of the QPV référentiel: its state, the last loads, and the upload of a new
file, for the platform's administrator only (`comptes.roles.is_national_admin`). The
reading and the rules are in `diagnostics.quartiers.referentiel`."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.template.response import TemplateResponse
from django.views import View

from comptes.roles import is_national_admin

from ..forms.referentiel import ReferentielForm
from ..models import ImportReferentiel, Quartier
from ..quartiers.referentiel import ReferentielRefuse, import_referentiel

ADMIN_ONLY = "Seul l’administrateur de la plateforme charge le référentiel des quartiers."
LAST_IMPORTS = 10


class ReferentielView(View):
    """GET: the state and the form; POST: the import, then its report on the page."""

    template_name = "diagnostics/quartiers/referentiel.html"
    http_method_names = ["get", "post"]

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_national_admin(request.user):
            raise PermissionDenied(ADMIN_ONLY)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        return self.page(ReferentielForm())

    def post(self, request):
        form = ReferentielForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.page(form)
        fichier = form.cleaned_data["fichier"]
        try:
            rapport = import_referentiel(
                fichier.name,
                fichier.read(),
                utilisateur=request.user,
                forcer=form.cleaned_data["forcer"],
            )
        except ReferentielRefuse as refus:
            return self.page(form, refus=refus.messages)
        messages.success(request, rapport.lignes()[0])
        return self.page(ReferentielForm(), rapport=rapport)

    def page(self, form, **context):
        etat = Quartier.objects.aggregate(
            quartiers=Count("pk", distinct=True),
            avec_contour=Count("pk", distinct=True, filter=Q(contour__isnull=False)),
            demonstration=Count("pk", distinct=True, filter=Q(contour_demonstration=True)),
            communes=Count("communes", distinct=True),
        )
        return TemplateResponse(
            self.request,
            self.template_name,
            {
                "form": form,
                "etat": etat,
                "imports": ImportReferentiel.objects.select_related("importe_par")[:LAST_IMPORTS],
                **context,
            },
        )
