"""The import and export screens of the Administrateur role.

Upload a file → preview (the importer's dry run: nothing is written) → confirm → the
import's page; the import history, each import's page with what it created or changed,
its undo; the export of a whole diagnostic in the layout of its source table. The rules
live in `diagnostics.uploads`, `diagnostics.undo` and `diagnostics.exports_source`.

Every screen is for administrators only: anonymous visitors are sent to the login page,
other roles get a 403.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import filesizeformat
from django.utils.decorators import method_decorator
from django.utils.http import content_disposition_header
from django.views import View
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.generic import DetailView, FormView, ListView, TemplateView

from comptes.roles import is_administrateur

from . import exports_source, undo, uploads
from .models import Diagnostic, Import

# Access ------------------------------------------------------------------------------------


class AdministrateurRequiredMixin:
    """Administrators only: anonymous visitors go to the login page, other roles get a 403.

    The check comes before anything else, a POST included.
    """

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_administrateur(request.user):
            raise PermissionDenied("Cette page est réservée aux administrateurs.")
        return super().dispatch(request, *args, **kwargs)


def max_file_size(nature):
    """The size limit of a file of this nature (bytes)."""
    if nature == Import.Nature.MESURES:
        return getattr(settings, "IMPORT_MESURES_MAX_FILE_SIZE", settings.IMPORT_MAX_FILE_SIZE)
    return settings.IMPORT_MAX_FILE_SIZE


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


class UploadForm(forms.Form):
    nature = forms.ChoiceField(
        label="Nature du fichier",
        choices=Import.Nature.choices,
        initial=Import.Nature.DIAGNOSTIC,
        widget=forms.RadioSelect,
    )
    diagnostic = forms.ModelChoiceField(
        label="Diagnostic",
        queryset=Diagnostic.objects.order_by("-annee_debut", "titre"),
        required=False,
        empty_label="Nouveau diagnostic, créé par l'import",
        help_text=(
            "Un tableau de diagnostic complète un diagnostic existant ou en crée un "
            "nouveau ; des valeurs d'indicateurs vont dans un diagnostic existant."
        ),
    )
    titre = forms.CharField(
        label="Titre du nouveau diagnostic",
        required=False,
        max_length=Diagnostic._meta.get_field("titre").max_length,
    )
    slug = forms.SlugField(
        label="Identifiant court du nouveau diagnostic",
        required=False,
        max_length=Diagnostic._meta.get_field("slug").max_length,
        help_text="Lettres minuscules sans accents, chiffres et tirets : montlucon-2024.",
    )
    territoire = forms.CharField(
        label="Territoire du nouveau diagnostic",
        required=False,
        max_length=Diagnostic._meta.get_field("territoire").max_length,
        help_text="Commune ou intercommunalité signataire, ex. Montluçon Communauté.",
    )
    annee_debut = forms.IntegerField(
        label="Année de début", required=False, initial=2024, min_value=1990, max_value=2100
    )
    annee_fin = forms.IntegerField(
        label="Année de fin", required=False, initial=2030, min_value=1990, max_value=2100
    )
    fichier = forms.FileField(label="Fichier")

    NEW_FIELDS = uploads.NEW_DIAGNOSTIC_FIELDS

    def __init__(self, *args, too_large=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.too_large = too_large
        self.fields["fichier"].help_text = (
            "Classeur Excel (.xlsx) ou tableau texte (.csv, .tsv, .txt) ; "
            f"{filesizeformat(max_file_size(Import.Nature.DIAGNOSTIC))} au plus pour un tableau "
            f"de diagnostic, {filesizeformat(max_file_size(Import.Nature.MESURES))} pour des "
            "valeurs d'indicateurs."
        )

    def full_clean(self):
        super().full_clean()
        if self.too_large and self.is_bound:
            # The file was not received: say why, rather than "required".
            self.cleaned_data.pop("fichier", None)
            self._errors["fichier"] = self.error_class([self.too_large_message()])

    def too_large_message(self):
        limit = max_file_size(self.data.get("nature"))
        return f"Le fichier dépasse la taille maximale acceptée ({filesizeformat(limit)})."

    def clean(self):
        data = super().clean()
        fichier = data.get("fichier")
        if fichier is not None and fichier.size > max_file_size(data.get("nature")):
            self.add_error("fichier", self.too_large_message())
        if data.get("diagnostic") is not None:
            return data
        if data.get("nature") == Import.Nature.MESURES:
            self.add_error(
                "diagnostic",
                "Choisissez le diagnostic dont ces valeurs mesurent les indicateurs.",
            )
            return data
        missing = [name for name in self.NEW_FIELDS if data.get(name) in (None, "")]
        for name in missing:
            self.add_error(name, "Ce champ est obligatoire pour créer un nouveau diagnostic.")
        if not missing:
            self._check_new_diagnostic(data)
        return data

    def _check_new_diagnostic(self, data):
        diagnostic = Diagnostic(**{name: data[name] for name in self.NEW_FIELDS})
        try:
            diagnostic.full_clean(exclude=["statut", "est_public"])
        except ValidationError as error:
            for name, field_messages in error.message_dict.items():
                for message in field_messages:
                    self.add_error(name if name in self.fields else None, message)

    def new_diagnostic(self):
        return {name: self.cleaned_data[name] for name in self.NEW_FIELDS}


@method_decorator(csrf_exempt, name="dispatch")  # checked in post(), after the upload handler
class ImportNouveauView(AdministrateurRequiredMixin, FormView):
    """Upload a file: its preview follows."""

    form_class = UploadForm
    template_name = "diagnostics/imports/nouveau.html"

    def get_initial(self):
        slug = self.request.GET.get("diagnostic")
        diagnostic = Diagnostic.objects.filter(slug=slug).first() if slug else None
        return {"diagnostic": diagnostic} if diagnostic else {}

    def post(self, request, *args, **kwargs):
        limit = max(max_file_size(nature) for nature in Import.Nature.values)
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
        return kwargs

    def form_valid(self, form):
        fichier = form.cleaned_data["fichier"]
        diagnostic = form.cleaned_data["diagnostic"]
        pending = uploads.deposit(
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
        uploads.UploadUnavailable.UNKNOWN: 404,
        uploads.UploadUnavailable.EXPIRED: 410,
        uploads.UploadUnavailable.CONFIRMED: 409,
        uploads.UploadUnavailable.CONFLICT: 409,
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
            pending = uploads.pending_upload(request.user, token)
        except uploads.UploadUnavailable as error:
            return self.unavailable(error)
        report = uploads.preview(pending, request.user)
        return self.render_to_response(self.get_context_data(pending=pending, report=report))

    def post(self, request, *args, token, **kwargs):
        if request.POST.get("action") == "abandonner":
            try:
                uploads.abandon(request.user, token)
            except uploads.UploadUnavailable as error:
                return self.unavailable(error)
            messages.info(request, "Dépôt abandonné : rien n'a été importé.")
            return redirect("diagnostics:import_nouveau")
        try:
            report = uploads.confirm(request.user, token)
        except uploads.UploadUnavailable as error:
            if error.import_record is not None:
                messages.warning(request, error.message)
                return redirect("diagnostics:import_detail", pk=error.import_record.pk)
            return self.unavailable(error)
        if not report.ok:
            # The database changed since the preview: show what stands in the way.
            pending = uploads.pending_upload(request.user, token)
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
            diagnostic=uploads.target_diagnostic(pending),
            nouveau=not pending.diagnostic_id,
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


def resultat(import_record):
    """The counts of an import, in a few words ("109 éléments créés")."""
    counts = import_record.compte_rendu.get("counts", {})
    if import_record.nature == Import.Nature.MESURES:
        created, updated = counts.get("created", 0), counts.get("updated", 0)
        return (
            f"{created} valeur{'s' if created > 1 else ''} créée{'s' if created > 1 else ''}, "
            f"{updated} mise{'s' if updated > 1 else ''} à jour"
        )
    created = sum(level.get("created", 0) for level in counts.values() if isinstance(level, dict))
    return f"{created} élément{'s' if created > 1 else ''} créé{'s' if created > 1 else ''}"


class ImportListView(AdministrateurRequiredMixin, ListView):
    """Every import, latest first."""

    template_name = "diagnostics/imports/liste.html"
    context_object_name = "imports"
    paginate_by = 50

    def get_queryset(self):
        return Import.objects.select_related("diagnostic", "importe_par", "annule_par").order_by(
            "-created_at", "-pk"
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for record in context["imports"]:
            record.resultat = resultat(record)
            record.nombre_avertissements = len(record.compte_rendu.get("warnings", []))
        return context


class ImportRecordMixin(AdministrateurRequiredMixin):
    model = Import
    context_object_name = "import_record"

    def get_queryset(self):
        return Import.objects.select_related("diagnostic", "importe_par", "annule_par")

    def get_context_data(self, **kwargs):
        record = self.object
        return super().get_context_data(
            resultat=resultat(record),
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
        try:
            result = undo.undo(self.object, request.user)
        except undo.UndoRefused as error:
            messages.error(request, error.message)
            return self.render_to_response(self.get_context_data(refus=error.message))
        parts = [f"{result.deleted} élément{'s' if result.deleted > 1 else ''} supprimé"]
        parts[0] += "s" if result.deleted > 1 else ""
        if result.restored:
            parts.append(
                f"{result.restored} élément{'s' if result.restored > 1 else ''} "
                f"rétabli{'s' if result.restored > 1 else ''}"
            )
        messages.success(request, f"Import annulé : {', '.join(parts)}.")
        return redirect("diagnostics:import_detail", pk=self.object.pk)


# Export in the source layout ------------------------------------------------------------------


class ExportSourceView(AdministrateurRequiredMixin, View):
    """The whole diagnostic in the layout of its source table (XLSX, CSV or TSV)."""

    def get(self, request, *args, slug, format, **kwargs):
        diagnostic = get_object_or_404(Diagnostic, slug=slug)
        if format not in exports_source.FORMATS:
            raise Http404("Format d'export inconnu.")
        content, content_type, filename = exports_source.export(diagnostic, format)
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = content_disposition_header(True, filename)
        return response
