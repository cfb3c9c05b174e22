"""The import and export screens of the Administrateur role.

Upload a file → preview (the importer's dry run: nothing is written; for a source table
going into an existing edition, what was edited in the site since its import and what the
edition holds that the file does not, with the boxes to take the file's version or remove)
→ confirm → the import's page; the import history, each import's page with what it
created, changed or removed, its undo; the export of a whole diagnostic in the layout of
its source table. The rules live in `diagnostics.imports`: `upload`, `reconcile`, `undo`
and `source_export`.

Every screen is for the Administrateurs of a contract, each about their contracts only
(an import, an upload or a diagnostic of another contract is a 404): anonymous visitors
are sent to the login page, other roles get a 403. Whoever imports a new diagnostic
becomes the Administrateur of its new contract.
"""

import logging
from functools import cached_property

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.decorators import method_decorator
from django.utils.http import content_disposition_header, urlencode
from django.views import View
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.generic import DetailView, FormView, ListView, TemplateView

from ..access import administered_diagnostics, administers_somewhere
from ..editions.states import FROZEN_MESSAGE
from ..forms.imports import ReconciliationForm, UploadForm
from ..imports import natures, preview, source_export, undo, upload
from ..models import Contrat, Import
from ..text import clean_parameter

logger = logging.getLogger(__name__)

# Access ------------------------------------------------------------------------------------


class AdministrateurRequiredMixin:
    """Administrators of a contract only: anonymous visitors go to the login page, other
    roles get a 403. The check comes before anything else, a POST included.
    """

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not administers_somewhere(request.user):
            raise PermissionDenied("Cette page est réservée aux administrateurs d'un contrat.")
        return super().dispatch(request, *args, **kwargs)

    def administered(self):
        return administered_diagnostics(self.request.user)


# Upload ------------------------------------------------------------------------------------


class SizeLimitUploadHandler(FileUploadHandler):
    """Stops receiving a file beyond the size limit, so that it is neither kept in memory
    nor written to a temporary file; the form then says it is too large."""

    def __init__(self, request, limit):
        super().__init__(request)
        self.limit = limit
        self.too_large = False

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            self.too_large = True
            raise SkipFile()
        return raw_data

    def file_complete(self, file_size):
        return None


@method_decorator(csrf_exempt, name="dispatch")  # checked in post(), after the upload handler
class ImportNouveauView(AdministrateurRequiredMixin, FormView):
    """Upload a file: its preview follows."""

    form_class = UploadForm
    template_name = "diagnostics/imports/nouveau.html"

    def get_initial(self):
        slug = clean_parameter(self.request.GET.get("diagnostic"))  # PostgreSQL refuses NUL
        diagnostic = self.administered().filter(slug=slug).first() if slug else None
        return {"diagnostic": diagnostic} if diagnostic else {}

    def post(self, request, *args, **kwargs):
        limit = max(nature.max_file_size for nature in natures.all_natures())
        self.handler = SizeLimitUploadHandler(request, limit)
        request.upload_handlers.insert(0, self.handler)
        return csrf_protect(self._post)(request)

    def _post(self, request):
        form = self.get_form()
        if form.is_valid():
            return self.form_valid(form)
        return self.form_invalid(form)

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        handler = getattr(self, "handler", None)
        kwargs["too_large"] = bool(handler and handler.too_large)
        kwargs["diagnostics"] = self.administered()
        return kwargs

    def form_valid(self, form):
        fichier = form.cleaned_data["fichier"]
        diagnostic = form.cleaned_data["diagnostic"]
        pending = upload.deposit(
            self.request.user,
            nature=form.cleaned_data["nature"],
            filename=fichier.name,
            content=fichier.read(),
            diagnostic=diagnostic,
            nouveau_diagnostic=None if diagnostic else form.new_diagnostic(),
        )
        return redirect("diagnostics:import_apercu", token=pending.token)

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            ttl=settings.IMPORT_PENDING_TTL // 60,
            max_rows=settings.IMPORT_MAX_ROWS,
            **kwargs,
        )


class UnavailableMixin:
    """Renders `UploadUnavailable`: 404 for an unknown token (or another user's), 410 when
    expired, 409 when already confirmed (with a link to its import) or in conflict."""

    STATUS = {
        upload.UploadUnavailable.UNKNOWN: 404,
        upload.UploadUnavailable.EXPIRED: 410,
        upload.UploadUnavailable.CONFIRMED: 409,
        upload.UploadUnavailable.CONFLICT: 409,
        upload.UploadUnavailable.FROZEN: 409,
        upload.UploadUnavailable.FORBIDDEN: 403,
    }

    def unavailable(self, error):
        return self.response_class(
            request=self.request,
            template=["diagnostics/imports/indisponible.html"],
            context={"message": error.message, "import_record": error.import_record},
            using=self.template_engine,
            status=self.STATUS[error.reason],
        )


class ImportApercuView(AdministrateurRequiredMixin, UnavailableMixin, TemplateView):
    """The preview of an uploaded file; POST confirms it (or abandons it)."""

    template_name = "diagnostics/imports/apercu.html"

    def get(self, request, *args, token, **kwargs):
        try:
            pending = upload.pending_upload(request.user, token)
            report = upload.preview(pending, request.user)
        except upload.UploadUnavailable as error:
            return self.unavailable(error)
        return self.render_to_response(self.get_context_data(pending=pending, report=report))

    def post(self, request, *args, token, **kwargs):
        if request.POST.get("action") == "abandonner":
            try:
                upload.abandon(request.user, token)
            except upload.UploadUnavailable as error:
                return self.unavailable(error)
            messages.info(request, "Dépôt abandonné : rien n'a été importé.")
            return redirect("diagnostics:import_nouveau")
        form = ReconciliationForm(request.POST)
        if not form.is_valid():
            try:
                pending = upload.pending_upload(request.user, token)
                report = upload.preview(pending, request.user)
            except upload.UploadUnavailable as error:
                return self.unavailable(error)
            messages.error(request, " ".join(m for e in form.errors.values() for m in e))
            return self.render_to_response(self.get_context_data(pending=pending, report=report))
        try:
            report = upload.confirm(request.user, token, choices=form.choices())
        except upload.UploadUnavailable as error:
            if error.import_record is not None:
                messages.warning(request, error.message)
                return redirect("diagnostics:import_detail", pk=error.import_record.pk)
            return self.unavailable(error)
        except (OperationalError, InterfaceError):
            # The connection was lost during the import: its transaction, the upload's
            # confirmation included, is gone; the upload waits to be confirmed again.
            logger.exception("Connexion à la base perdue pendant la confirmation d’un import")
            return self.response_class(
                request=request,
                template=["503.html"],
                context={"retry_url": request.path},
                using=self.template_engine,
                status=503,
            )
        if not report.ok:
            # The database changed since the preview: show what stands in the way.
            pending = upload.pending_upload(request.user, token)
            return self.render_to_response(self.get_context_data(pending=pending, report=report))
        status = report.as_lines()[0]
        if report.import_record is None:
            messages.info(request, status)
            return redirect("diagnostics:imports")
        messages.success(request, status)
        return redirect("diagnostics:import_detail", pk=report.import_record.pk)

    def get_context_data(self, **kwargs):
        pending, report = kwargs["pending"], kwargs["report"]
        levels = report.levels if hasattr(report, "levels") else None
        return super().get_context_data(
            diagnostic=upload.target_diagnostic(pending),
            nouveau=not pending.diagnostic_id,
            # First on the page, with the confirm button: the counts, warnings and errors.
            synthese=preview.summarize(report),
            decalees=preview.shifted_entries(report) if report.ok else [],
            # The diagnostic importer details each level; others give counts in French.
            niveaux=list(levels()) if levels and report.ok else None,
            resume=[
                line
                for line in report.as_lines()[1:]
                if not line.endswith(":") and not line.startswith(" ")
            ]
            if report.ok
            else None,
            **kwargs,
        )


# History and undo ---------------------------------------------------------------------------


def result_of(import_record):
    """The counts of an import, in a few words ("109 éléments créés")."""
    nature = natures.get(import_record.nature)
    return nature.summary(import_record.compte_rendu.get("counts", {})) if nature else ""


class ImportListView(AdministrateurRequiredMixin, ListView):
    """Every import into the diagnostics the user administers, latest first; those of one
    contract with `?contrat=<slug>` (a contract they do not administer, or that does not
    exist, lists nothing, alike)."""

    template_name = "diagnostics/imports/liste.html"
    context_object_name = "imports"
    paginate_by = 50

    @cached_property
    def contrat(self):
        """The contract asked for, when its imports may be listed (None otherwise)."""
        slug = clean_parameter(self.request.GET.get("contrat"))
        if not slug:
            return None
        return Contrat.objects.filter(slug=slug, editions__in=self.administered()).first()

    def get_queryset(self):
        imports = Import.objects.filter(diagnostic__in=self.administered())
        if self.request.GET.get("contrat"):
            imports = imports.filter(diagnostic__contrat=self.contrat)
        return imports.select_related("diagnostic", "importe_par", "annule_par").order_by(
            "-created_at", "-pk"
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filtre_contrat"] = bool(self.request.GET.get("contrat"))
        context["contrat"] = self.contrat
        # The pages of the list keep the contract asked for.
        context["query_string"] = (
            urlencode({"contrat": self.contrat.slug}) if self.contrat is not None else ""
        )
        for record in context["imports"]:
            record.resultat = result_of(record)
            record.nombre_avertissements = len(record.compte_rendu.get("warnings", []))
        return context


class ImportRecordMixin(AdministrateurRequiredMixin):
    model = Import
    context_object_name = "import_record"

    def get_queryset(self):
        return Import.objects.filter(diagnostic__in=self.administered()).select_related(
            "diagnostic", "importe_par", "annule_par"
        )

    def get_context_data(self, **kwargs):
        record = self.object
        return super().get_context_data(
            resultat=result_of(record),
            avertissements=record.compte_rendu.get("warnings", []),
            **kwargs,
        )


class ImportDetailView(ImportRecordMixin, DetailView):
    """An import: its file, its counts and warnings, what it created or changed, with links."""

    template_name = "diagnostics/imports/detail.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(importe=undo.imported(self.object), **kwargs)


class ImportAnnulerView(ImportRecordMixin, DetailView):
    """Undo an import: GET shows what would be removed and restored, or why it cannot."""

    template_name = "diagnostics/imports/annuler.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(plan=undo.plan(self.object), **kwargs)

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        if self.object.diagnostic.est_figee:
            # Like every change of a frozen edition: refused before anything is tried.
            raise PermissionDenied(FROZEN_MESSAGE)
        try:
            result = undo.undo(self.object, request.user)
        except undo.UndoRefused as error:
            messages.error(request, error.message)
            return self.render_to_response(self.get_context_data(refus=error.message))
        messages.success(request, result.message())
        return redirect("diagnostics:import_detail", pk=self.object.pk)


# Export in the source layout ------------------------------------------------------------------


class ExportSourceView(AdministrateurRequiredMixin, View):
    """The whole diagnostic in the layout of its source table (XLSX, CSV or TSV)."""

    def get(self, request, *args, slug, format, **kwargs):
        diagnostic = get_object_or_404(self.administered(), slug=slug)
        if format not in source_export.FORMATS:
            raise Http404("Format d'export inconnu.")
        content, content_type, filename = source_export.export(diagnostic, format)
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = content_disposition_header(True, filename)
        return response
