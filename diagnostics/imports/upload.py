"""Files uploaded on the import screens, waiting between their preview and their confirmation.

An upload is kept in the database (`ImportEnAttente`: the file's bytes, its target), so
that whichever application server answers the confirmation finds it; never in a folder
of one machine. Only its uploader reaches it, by a random token, until it expires
(setting IMPORT_PENDING_TTL). The preview is the importer's dry run; the confirmation
runs the import for real, once, with what the administrator ticked on the preview (a
source table: `reconcile.Choices`): a second confirmation finds the upload already used
and writes nothing. Expired uploads are deleted whenever a new file is uploaded. Nothing
goes into a frozen edition: its preview and its confirmation are refused.

Views, admin and commands call these functions; each refusal is an `UploadUnavailable`
with a French message.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..access import can_administer, forget_roles
from ..editions.states import ensure_modifiable
from ..membres import make_creator_administrator
from ..models import Diagnostic, Import, ImportEnAttente
from . import natures

# Fields of a diagnostic created by an import, as kept in `ImportEnAttente.nouveau_diagnostic`.
NEW_DIAGNOSTIC_FIELDS = ("titre", "slug", "territoire", "annee_debut", "annee_fin")


class UploadUnavailable(Exception):
    """The upload cannot be previewed or confirmed; `message` says why, in French."""

    UNKNOWN, EXPIRED, CONFIRMED, CONFLICT = "unknown", "expired", "confirmed", "conflict"
    FROZEN, FORBIDDEN = "frozen", "forbidden"

    def __init__(self, message, reason, import_record=None):
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.import_record = import_record  # the import a confirmed upload recorded


def importer(nature):
    """The import function of a nature of file (`natures`)."""
    return natures.get(nature).importer


def deposit(user, *, nature, filename, content, diagnostic=None, nouveau_diagnostic=None):
    """Keep an uploaded file for its preview; return the `ImportEnAttente`.

    `diagnostic` is the existing target; without it, `nouveau_diagnostic` gives the fields
    of the diagnostic to create (NEW_DIAGNOSTIC_FIELDS).
    """
    purge_expired()
    now = timezone.now()
    return ImportEnAttente.objects.create(
        token=secrets.token_urlsafe(32),
        depose_par=user,
        nature=nature,
        diagnostic=diagnostic,
        nouveau_diagnostic={} if diagnostic else dict(nouveau_diagnostic or {}),
        nom_fichier=filename[: ImportEnAttente._meta.get_field("nom_fichier").max_length],
        contenu=content,
        sha256=hashlib.sha256(content).hexdigest(),
        taille=len(content),
        expire_le=now + timedelta(seconds=settings.IMPORT_PENDING_TTL),
    )


def pending_upload(user, token, *, for_update=False):
    """The upload of this token, if this user deposited it and it can still be confirmed."""
    uploads = ImportEnAttente.objects.select_related("diagnostic", "import_enregistre")
    if for_update:
        uploads = uploads.select_for_update(of=("self",))
    pending = uploads.filter(token=token, depose_par=user).first() if user.pk else None
    if pending is None:
        raise UploadUnavailable(
            "Ce dépôt de fichier n'existe pas ou plus (il a peut-être expiré et été "
            "supprimé) : déposez le fichier à nouveau.",
            UploadUnavailable.UNKNOWN,
        )
    if pending.confirme_le is not None:
        raise UploadUnavailable(
            "Ce fichier a déjà été importé : rien n'a été enregistré une seconde fois.",
            UploadUnavailable.CONFIRMED,
            import_record=pending.import_enregistre,
        )
    if pending.expire_le <= timezone.now():
        raise UploadUnavailable(
            f"Ce dépôt a expiré (il était valable {_duration(settings.IMPORT_PENDING_TTL)}) : "
            "déposez le fichier à nouveau.",
            UploadUnavailable.EXPIRED,
        )
    return pending


NOT_ADMINISTERED = "Vous n'administrez plus le contrat de ce diagnostic."


def check_administered(pending, user):
    """Refuse (`UploadUnavailable`) an upload into a diagnostic its author no longer
    administers (their role was changed or removed since the upload)."""
    if pending.diagnostic_id and not can_administer(user, pending.diagnostic):
        raise UploadUnavailable(NOT_ADMINISTERED, UploadUnavailable.FORBIDDEN)


def check_modifiable(pending, *, lock=False):
    """Refuse (`UploadUnavailable`) an upload whose edition is frozen: nothing goes into it."""
    if not pending.diagnostic_id:
        return
    diagnostics = Diagnostic.objects.select_for_update() if lock else Diagnostic.objects
    diagnostic = diagnostics.filter(pk=pending.diagnostic_id).first() or pending.diagnostic
    try:
        ensure_modifiable(diagnostic)
    except ValidationError as error:
        raise UploadUnavailable(" ".join(error.messages), UploadUnavailable.FROZEN) from error


def target_diagnostic(pending):
    """The diagnostic the file goes into: existing, or a new unsaved one."""
    if pending.diagnostic_id:
        return pending.diagnostic
    fields = {name: pending.nouveau_diagnostic.get(name) for name in NEW_DIAGNOSTIC_FIELDS}
    return Diagnostic(**fields)


def preview(pending, user):
    """The importer's report of a dry run: what the import would do, nothing written.
    Refused (`UploadUnavailable`) when the edition was frozen since the upload."""
    check_modifiable(pending)
    check_administered(pending, user)
    return _run(pending, user, dry_run=True)


def confirm(user, token, choices=None):
    """Import the file of this upload for real, once; return the importer's report.

    `choices` (a `reconcile.Choices`, source tables only) is what the administrator ticked
    on the preview. The upload is locked for the length of the import: a second
    confirmation waits, then finds it used (`UploadUnavailable`), as does the confirmation
    of a file for an edition frozen since its upload. The file's bytes are dropped once used.
    """
    with transaction.atomic():
        pending = pending_upload(user, token, for_update=True)
        check_modifiable(pending, lock=True)
        forget_roles(user)  # read again under the lock: a role removed since counts
        check_administered(pending, user)
        slug = None if pending.diagnostic_id else pending.nouveau_diagnostic.get("slug")
        if slug is not None and Diagnostic.objects.filter(slug=slug).exists():
            raise _slug_taken(slug)
        try:
            report = _run(pending, user, dry_run=False, choices=choices)
        except IntegrityError as error:
            # Another administrator created a diagnostic with this slug at the same moment:
            # the importer's savepoint is rolled back; answer as a retry would (409).
            if slug is None or not Diagnostic.objects.filter(slug=slug).exists():
                raise
            raise _slug_taken(slug) from error
        if report.ok:
            if slug is not None:  # a new diagnostic, and its new contract
                make_creator_administrator(Diagnostic.objects.get(slug=slug).contrat, user)
            pending.confirme_le = timezone.now()
            pending.import_enregistre = report.import_record
            pending.contenu = b""
            pending.save(update_fields=["confirme_le", "import_enregistre", "contenu"])
    return report


def _slug_taken(slug):
    return UploadUnavailable(
        f"Un diagnostic porte déjà l'identifiant court « {slug} » depuis le "
        "dépôt du fichier : déposez-le à nouveau en choisissant ce diagnostic "
        "ou un autre identifiant.",
        UploadUnavailable.CONFLICT,
    )


def abandon(user, token):
    """Forget an upload (its preview showed something wrong)."""
    pending = pending_upload(user, token)
    pending.delete()


def purge_expired(now=None):
    """Delete the expired uploads, confirmed or not; return how many."""
    deleted, _ = ImportEnAttente.objects.filter(expire_le__lte=now or timezone.now()).delete()
    return deleted


def _run(pending, user, *, dry_run, choices=None):
    # Only a source table reconciles with its edition (its importer takes the choices).
    options = {"choices": choices} if choices and pending.nature == Import.Nature.DIAGNOSTIC else {}
    return importer(pending.nature)(
        target_diagnostic(pending),
        pending.nom_fichier,
        bytes(pending.contenu),
        user=user,
        dry_run=dry_run,
        **options,
    )


def _duration(seconds):
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} heure{'s' if hours > 1 else ''}"
    minutes = max(1, seconds // 60)
    return f"{minutes} minute{'s' if minutes > 1 else ''}"
