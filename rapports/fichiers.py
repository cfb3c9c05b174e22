"""The checks on a signed opinion uploaded with the consultation (`rapports.consultation`):
a PDF, an ODT (LibreOffice) or a DOCX (Word), read for what its content is, whatever its
name says. `verifier(fichier)` returns the name to show and the content type to serve, or
refuses with a French `ValidationError` naming the problem:

- a size limit (`settings.RAPPORTS_FICHIER_MAX`, 10 Mo by default), no empty file;
- a name without control characters (NUL…) or folders, cut to 255 characters;
- the real type from the content: a PDF starts with ``%PDF-`` and ends with ``%%EOF``; an
  ODT is a zip whose first part is ``mimetype`` holding the ODF text type, with a
  ``content.xml``; a DOCX is a zip whose ``[Content_Types].xml`` declares a Word main
  document. The extension must agree with it;
- no active content: no macros in an ODT (``Basic/``, ``Scripts/``, script event
  listeners) nor in a DOCX (``vbaProject.bin``, macro-enabled content types), no
  JavaScript, launch action, embedded file or XFA form in a PDF (its compressed streams
  are read too, within a limit), no encrypted PDF (it could not be read);
- the zip archives are checked from their directory before anything is read from them
  (decompression bombs): number of parts, declared size once unpacked, compression ratio
  of each large part, encrypted parts — the idea of `diagnostics.imports.formats.
  check_archive`, whose messages speak of workbooks.

The file is stored under a random name keeping its extension (`nom_stocke`); its original
name is kept beside it for the download.
"""

import io
import re
import secrets
import zipfile
import zlib
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError

from diagnostics.text import control_character, file_size, file_size_over

PDF, ODT, DOCX = "pdf", "odt", "docx"
TYPES = {
    PDF: "application/pdf",
    ODT: "application/vnd.oasis.opendocument.text",
    DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
EXTENSIONS = {".pdf": PDF, ".odt": ODT, ".docx": DOCX}
NOMS = {PDF: "PDF", ODT: "document ODT (LibreOffice)", DOCX: "document DOCX (Word)"}
ACCEPTES = ".pdf,.odt,.docx," + ",".join(TYPES.values())  # the file input's `accept`
MACRO_EXTENSIONS = {".docm", ".dotm", ".odm", ".ott", ".dot", ".doc", ".rtf"}
NOM_MAX = 255

# Zip archives (ODT, DOCX): checked from their directory before any part is read.
ZIP_MAGIC = b"PK\x03\x04"
ZIP_PARTIES_MAX = 1_000
ZIP_GONFLEMENT_MAX = 10  # times the file size limit, once unpacked
ZIP_TAILLE_MAX = 100 * 1024 * 1024  # bytes once unpacked, whatever the limit
ZIP_RATIO_MAX = 100
ZIP_RATIO_VERIFIE_DES = 1024 * 1024  # small parts may compress more (styles.xml)
PARTIE_LUE_MAX = 5 * 1024 * 1024  # bytes read from one part for the checks
ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
DOCX_PRINCIPAL = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
DOCX_PRINCIPAUX_MACROS = (
    b"application/vnd.ms-word.document.macroenabled.main+xml",
    b"application/vnd.ms-word.template.macroenabledtemplate.main+xml",
)
DOCX_MODELE = b"application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml"

# PDF: the names of active content, and how much of its compressed streams is read.
PDF_INTERDITS = {
    b"JavaScript": "du JavaScript",
    b"JS": "du JavaScript",
    b"Launch": "une commande à lancer",
    b"EmbeddedFile": "des fichiers joints",
    b"EmbeddedFiles": "des fichiers joints",
    b"RichMedia": "un contenu multimédia actif",
    b"XFA": "un formulaire XFA (scripts)",
}
PDF_FLUX_MAX = 50 * 1024 * 1024  # bytes inflated from all streams, at most
_PDF_NOM = re.compile(rb"/([^\s/<>\[\]()%{}]+)")
_PDF_DIESE = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_FLUX = re.compile(rb"stream\r?\n")
_PDF_FIN_FLUX = b"endstream"
# A relationship to an attached template outside the document (template injection).
_MODELE_EXTERNE = re.compile(
    rb"<relationship\b[^>]*attachedtemplate[^>]*targetmode=\"external\"|"
    rb"<relationship\b[^>]*targetmode=\"external\"[^>]*attachedtemplate"
)


def refus(message, code):
    return ValidationError(message, code=code)


def maximum():
    return settings.RAPPORTS_FICHIER_MAX


def verifier(fichier):
    """(name to show, content type) of an uploaded signed opinion, or a refusal."""
    nom = nom_propre(getattr(fichier, "name", "") or "")
    extension = PurePath(nom).suffix.lower()
    taille = fichier.size
    if taille is None or taille > maximum():
        raise refus(
            f"Le fichier dépasse {file_size(maximum())} ({file_size_over(taille or 0, maximum())}) "
            ": réduisez-le (un PDF numérisé en noir et blanc, par exemple) puis recommencez.",
            "taille",
        )
    if taille == 0:
        raise refus("Ce fichier est vide.", "vide")
    if extension in MACRO_EXTENSIONS:
        raise refus(
            f"Les fichiers {extension} ne sont pas acceptés : ils peuvent contenir des macros. "
            "Enregistrez l'avis en PDF, en ODT ou en DOCX.",
            "extension",
        )
    attendu = EXTENSIONS.get(extension)
    if attendu is None:
        raise refus(
            "Seuls les fichiers PDF, ODT (LibreOffice) et DOCX (Word) sont acceptés.",
            "extension",
        )
    fichier.seek(0)
    contenu = fichier.read(maximum() + 1)
    fichier.seek(0)
    if len(contenu) > maximum():
        raise refus(f"Le fichier dépasse {file_size(maximum())}.", "taille")
    reel = type_reel(contenu)
    if reel is None:
        raise refus(
            f"Ce fichier n'est pas un vrai {NOMS[attendu]} : son contenu ne correspond pas à "
            f"son extension {extension} (fichier abîmé, ou d'un autre format renommé).",
            "type",
        )
    if reel != attendu:
        raise refus(
            f"Ce fichier porte l'extension {extension} mais c'est un {NOMS[reel]} : "
            f"renommez-le en {next(e for e, t in EXTENSIONS.items() if t == reel)}, "
            "puis recommencez.",
            "type",
        )
    {PDF: verifier_pdf, ODT: verifier_odt, DOCX: verifier_docx}[reel](contenu)
    return nom, TYPES[reel]


def nom_propre(nom):
    """The name shown and given back at download: its last component, without control
    characters, at most 255 characters (the extension kept)."""
    if control_character(nom) is not None or "\x00" in nom:
        raise refus(
            "Le nom de ce fichier contient des caractères invisibles interdits : "
            "renommez-le, puis recommencez.",
            "nom",
        )
    nom = nom.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not nom or nom in {".", ".."}:
        raise refus("Ce fichier n'a pas de nom : renommez-le, puis recommencez.", "nom")
    if len(nom) > NOM_MAX:
        suffixe = PurePath(nom).suffix[:20]
        nom = nom[: NOM_MAX - len(suffixe)] + suffixe
    return nom


def nom_stocke(nom):
    """A random name for the storage, keeping the (checked) extension."""
    return secrets.token_hex(16) + PurePath(nom).suffix.lower()


def type_reel(contenu):
    """PDF, ODT or DOCX as the content says; None when it is none of them."""
    if contenu.startswith(b"%PDF-"):
        return PDF if b"%%EOF" in contenu[-1024:] else None
    if not contenu.startswith(ZIP_MAGIC):
        return None
    archive = _archive(contenu)
    if archive is None:
        return None
    with archive:
        noms = archive.namelist()
        if noms and noms[0] == "mimetype":
            mimetype = _lire(archive, "mimetype", 200)
            if mimetype.strip() == ODT_MIMETYPE and "content.xml" in noms:
                return ODT
            return None
        if "[Content_Types].xml" in noms:
            types = _lire(archive, "[Content_Types].xml").lower()
            if any(t in types for t in (DOCX_PRINCIPAL, DOCX_MODELE, *DOCX_PRINCIPAUX_MACROS)):
                return DOCX
    return None


# Zip archives ----------------------------------------------------------------------------------


def _archive(contenu):
    """The zip archive, its directory checked (decompression bombs); None if unreadable."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(contenu))
        parties = archive.infolist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        return None
    if len(parties) > ZIP_PARTIES_MAX:
        raise refus(
            f"Ce document est fait de {len(parties)} fichiers internes, au-delà de "
            f"{ZIP_PARTIES_MAX} : ce n'est pas un document ordinaire.",
            "bombe",
        )
    total = sum(partie.file_size for partie in parties)
    if total > min(ZIP_GONFLEMENT_MAX * maximum(), ZIP_TAILLE_MAX):
        raise refus(
            f"Ce document décompressé ferait {file_size(total)} : c'est le signe d'une "
            "« bombe de décompression », il est refusé par sécurité.",
            "bombe",
        )
    for partie in parties:
        ratio = partie.file_size / max(partie.compress_size, 1)
        if partie.file_size >= ZIP_RATIO_VERIFIE_DES and ratio > ZIP_RATIO_MAX:
            raise refus(
                f"Ce document est anormalement compressé ({file_size(partie.compress_size)} "
                f"qui en feraient {file_size(partie.file_size)}, {ratio:.0f} fois plus) : "
                "c'est le signe d'une « bombe de décompression », il est refusé par sécurité.",
                "bombe",
            )
        if partie.flag_bits & 0x1:
            raise refus(
                "Ce document est protégé par un mot de passe : enregistrez-le sans protection, "
                "puis recommencez.",
                "chiffre",
            )
    return archive


def _lire(archive, nom, limite=PARTIE_LUE_MAX):
    """The first `limite` bytes of a part (b"" when it cannot be read)."""
    try:
        with archive.open(nom) as partie:
            return partie.read(limite)
    except (KeyError, zipfile.BadZipFile, OSError, EOFError, zlib.error, RuntimeError):
        return b""


MACROS = (
    "Ce document contient des macros (programmes) : elles sont refusées par sécurité. "
    "Enregistrez l'avis sans macros, en PDF de préférence, puis recommencez."
)


def verifier_odt(contenu):
    with _archive(contenu) as archive:
        noms = archive.namelist()
        if any(n.lower().startswith(("basic/", "scripts/")) for n in noms):
            raise refus(MACROS, "macro")
        manifeste = _lire(archive, "META-INF/manifest.xml").lower()
        if b"basic/" in manifeste or b"scripts/" in manifeste or b"script" in manifeste:
            raise refus(MACROS, "macro")
        for partie in ("content.xml", "styles.xml", "settings.xml", "meta.xml"):
            if partie in noms:
                xml = _lire(archive, partie).lower()
                if b"vnd.sun.star.script" in xml or b"script:event-listener" in xml:
                    raise refus(MACROS, "macro")


def verifier_docx(contenu):
    with _archive(contenu) as archive:
        noms = [n.lower() for n in archive.namelist()]
        if any(n.endswith(("vbaproject.bin", "vbadata.xml")) or "activex" in n for n in noms):
            raise refus(MACROS, "macro")
        types = _lire(archive, "[Content_Types].xml").lower()
        if b"macroenabled" in types or b"vbaproject" in types or b"ms-office.activex" in types:
            raise refus(MACROS, "macro")
        for nom in archive.namelist():
            if not nom.endswith(".rels"):
                continue
            relations = _lire(archive, nom).lower()
            if b"vbaproject" in relations:
                raise refus(MACROS, "macro")
            if _MODELE_EXTERNE.search(relations):
                raise refus(
                    "Ce document est lié à un modèle extérieur, qui peut apporter des macros : "
                    "enregistrez-le en PDF de préférence, puis recommencez.",
                    "macro",
                )


# PDF ------------------------------------------------------------------------------------------


def _noms_pdf(texte):
    """The PDF names of `texte` (b"JavaScript" for /JavaScript or /J#61vaScript)."""
    for nom in _PDF_NOM.findall(texte):
        yield _PDF_DIESE.sub(lambda m: bytes([int(m.group(1), 16)]), nom) if b"#" in nom else nom


def _flux_pdf(contenu):
    """The content of the compressed streams, inflated up to PDF_FLUX_MAX in all."""
    reste = PDF_FLUX_MAX
    position = 0
    while reste > 0:
        debut = _PDF_FLUX.search(contenu, position)
        if debut is None:
            return
        fin = contenu.find(_PDF_FIN_FLUX, debut.end())
        if fin < 0:
            return
        donnees = contenu[debut.end() : fin]
        position = fin + len(_PDF_FIN_FLUX)
        try:
            inflateur = zlib.decompressobj()
            gonfle = inflateur.decompress(donnees, reste)
        except zlib.error:
            continue
        reste -= len(gonfle)
        yield gonfle
    raise refus(
        "Ce PDF est anormalement compressé : c'est le signe d'une « bombe de "
        "décompression », il est refusé par sécurité.",
        "bombe",
    )


def verifier_pdf(contenu):
    if b"/Encrypt" in contenu:
        raise refus(
            "Ce PDF est chiffré ou protégé : son contenu ne peut pas être vérifié. "
            "Enregistrez-le sans protection, puis recommencez.",
            "chiffre",
        )
    for texte in (contenu, *_flux_pdf(contenu)):
        for nom in _noms_pdf(texte):
            if nom in PDF_INTERDITS:
                raise refus(
                    f"Ce PDF contient {PDF_INTERDITS[nom]} : c'est refusé par sécurité. "
                    "Imprimez-le en PDF (« Microsoft Print to PDF », « Enregistrer en PDF ») "
                    "pour n'en garder que les pages, puis recommencez.",
                    "actif",
                )
