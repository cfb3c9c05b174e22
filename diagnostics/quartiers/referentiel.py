"""The référentiel of the quartiers prioritaires (QPV): read the ANCT's file, check it
whole, then apply it in one transaction.

The ANCT publishes the 2024 list of QPV as open data (data.gouv.fr, Licence Ouverte), as
GeoJSON in WGS 84: one feature per quartier whose properties hold `code_qp` (`QN00304M`),
`lib_qp` (its name), `insee_com` (the code INSEE of its commune, or of several: a list, or
codes separated by commas, semicolons or spaces), often `lib_com` (the communes' names, in
the same order) and `insee_reg` (its région). Older files spell `Code_QP` / `Lib_QP`: keys
are read whatever their case. A CSV with the same columns (`;` or `,`, UTF-8 with or
without BOM, or Windows-1252) gives the list without outlines.

`read_referentiel(filename, content)` reads and checks everything before anything is
written: a bad code, a missing name, a bad commune code, an invalid outline, a code twice,
an unexpected layout — each error names its place ("objet n° 3" in a GeoJSON, counted from
1; "ligne 4" in a CSV, as a spreadsheet numbers it) — refuses the whole file
(`ReferentielRefuse`, up to `MAX_ERRORS` messages).

`apply_referentiel(lecture, ...)` creates and updates the quartiers by code (name, région,
communes, outline), in bulk, in one transaction, and writes one `ImportReferentiel` row.
Quartiers absent from the file are left as they are ("laissés": a contract may refer to
them). A second run of the same file changes nothing. A CSV keeps the outlines already
known; an official outline replaces a demonstration one.

The guard: when the référentiel holds at least `GARDE_MINIMUM` quartiers, a file holding
fewer than half of them (a département's extract, a truncated download) is refused unless
forced (`forcer=True`): it would not delete anything, but it tells of a wrong file.
"""

import json
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from diagnostics import models
from diagnostics.imports.formats import UnreadableFile, check_size, decode
from diagnostics.models import Commune, ImportReferentiel, Quartier
from diagnostics.text import collapse_whitespace, control_character

from . import geometrie

# Errors listed in a refusal; beyond, "et N autres erreurs".
MAX_ERRORS = 20
# The guard applies when the référentiel holds at least this many quartiers (the demo's
# three, a city's own dozen can be replaced freely), to files holding fewer than half.
GARDE_MINIMUM = 50
GARDE_PROPORTION = 0.5
# A GeoJSON of all France is 30 to 60 MB; settings.REFERENTIEL_MAX_FILE_SIZE caps it.
MAX_FILE_SIZE = 100 * 1024 * 1024
MAX_QUARTIERS = 20_000
NAME_MAX_LENGTH = 200

COMMUNE_CODE = re.compile(models.COMMUNE_CODE)
QUARTIER_CODE = re.compile(models.QPV_CODE)
REGION_CODE = re.compile(models.REGION_CODE)
CODE_SEPARATORS = re.compile(r"[,;\s|]+")
NAME_SEPARATORS = re.compile(r"\s*[,;|]\s*")

# The columns (properties), lower case: the first one found is read.
CODE_KEYS = ("code_qp", "code_qpv", "codeqpv")
NAME_KEYS = ("lib_qp", "lib_qpv", "nom_qp", "nom_qpv")
COMMUNES_KEYS = ("insee_com", "code_insee", "insee_comm")
COMMUNE_NAMES_KEYS = ("lib_com", "nom_com")
REGION_KEYS = ("insee_reg", "code_reg")
# Coordinate systems a GeoJSON may name that are WGS 84 longitude, latitude.
WGS84_NAMES = ("crs84", "epsg:4326", "epsg::4326", "wgs84", "wgs 84")


class ReferentielRefuse(Exception):
    """The file is refused, nothing written: `messages` in French."""

    def __init__(self, messages):
        self.messages = list(messages)
        super().__init__("\n".join(self.messages))


@dataclass
class QuartierLu:
    """One quartier as the file gives it."""

    code: str
    nom: str
    communes: list  # [(code INSEE, nom or "")]
    region: str = ""
    contour: dict | None = None  # simplified GeoJSON MultiPolygon, None from a CSV


@dataclass
class Lecture:
    """A checked file: its quartiers, its format ("GeoJSON" or "CSV")."""

    fichier: str
    format: str
    quartiers: list
    avertissements: list = field(default_factory=list)

    @property
    def avec_contours(self):
        return self.format == "GeoJSON"


@dataclass
class Rapport:
    """What an import did, by codes."""

    fichier: str
    format: str
    crees: list = field(default_factory=list)
    modifies: list = field(default_factory=list)
    inchanges: list = field(default_factory=list)
    laisses: list = field(default_factory=list)
    communes_creees: int = 0
    avertissements: list = field(default_factory=list)
    force: bool = False
    trace: ImportReferentiel | None = None

    @property
    def total(self):
        return len(self.crees) + len(self.modifies) + len(self.inchanges)

    def lignes(self, codes=10):
        """The report in French, a sentence a line; at most `codes` codes per list."""

        def some(values):
            shown = ", ".join(values[:codes])
            more = len(values) - codes
            if not values:
                return ""
            return f" ({shown}" + (f" et {more} autres" if more > 0 else "") + ")"

        contours = "avec leurs contours" if self.format == "GeoJSON" else "sans contours (CSV)"
        lines = [
            f"Référentiel « {self.fichier} » chargé : {_quartiers(self.total)} lus, {contours}.",
            f"Créés : {len(self.crees)}{some(self.crees)}.",
            f"Modifiés : {len(self.modifies)}{some(self.modifies)}.",
            f"Inchangés : {len(self.inchanges)}.",
            f"Laissés tels quels (absents du fichier) : {len(self.laisses)}{some(self.laisses)}.",
        ]
        if self.communes_creees:
            lines.append(f"Communes ajoutées : {self.communes_creees}.")
        if self.force:
            lines.append("Import forcé malgré le petit nombre de quartiers du fichier.")
        lines.extend(self.avertissements)
        return lines


def _quartiers(count):
    return _plural(count, "quartier")


# Reading ----------------------------------------------------------------------------------


class _Errors:
    """Errors of a file, up to MAX_ERRORS kept, all counted."""

    def __init__(self):
        self.kept = []
        self.count = 0

    def add(self, where, message):
        self.count += 1
        if len(self.kept) < MAX_ERRORS:
            self.kept.append(f"{where[:1].upper()}{where[1:]} : {message}")

    def raise_if_any(self):
        if not self.count:
            return
        messages = [
            f"Le fichier est refusé ({_plural(self.count, 'erreur')}) : rien n'a été enregistré.",
            *self.kept,
        ]
        if self.count > len(self.kept):
            messages.append(f"… et {_plural(self.count - len(self.kept), 'autre erreur')}.")
        raise ReferentielRefuse(messages)


def _plural(count, words):
    return f"{count} " + (" ".join(f"{w}s" for w in words.split()) if count > 1 else words)


def max_file_size():
    return getattr(settings, "REFERENTIEL_MAX_FILE_SIZE", MAX_FILE_SIZE)


def read_referentiel(filename, content):
    """The checked `Lecture` of a file (bytes), or `ReferentielRefuse`. The type is the
    content's (a JSON object is read as GeoJSON, text as CSV), whatever the extension."""
    try:
        check_size(len(content), max_file_size())
    except UnreadableFile as error:
        raise ReferentielRefuse([error.message]) from error
    if content[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        raise ReferentielRefuse(
            [
                "Ce fichier est une archive (zip, ou un classeur) : chargez le fichier GeoJSON "
                "(.geojson) du référentiel, ou la liste des quartiers en CSV."
            ]
        )
    try:
        text = decode(content)
    except UnreadableFile as error:
        raise ReferentielRefuse([error.message]) from error
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise ReferentielRefuse(["Le fichier est vide."])
    if text.lstrip()[:1] in ("{", "["):
        lecture = _read_geojson(filename, text)
    else:
        lecture = _read_csv(filename, text)
    if len(lecture.quartiers) > MAX_QUARTIERS:
        raise ReferentielRefuse(
            [
                f"Le fichier décrit {len(lecture.quartiers)} quartiers, au-delà des "
                f"{MAX_QUARTIERS} qu'un référentiel peut compter."
            ]
        )
    if not lecture.quartiers:
        raise ReferentielRefuse(["Le fichier ne décrit aucun quartier."])
    return lecture


def _no_constant(name):
    raise ValueError(name)


def _read_geojson(filename, text):
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except RecursionError as error:
        raise ReferentielRefuse(
            ["Le fichier n'est pas du GeoJSON lisible : trop imbriqué."]
        ) from error
    except ValueError as error:  # JSONDecodeError, and integers too long to convert
        where = (
            f" (ligne {error.lineno}, colonne {error.colno})"
            if isinstance(error, json.JSONDecodeError)
            else ""
        )
        raise ReferentielRefuse(
            [
                f"Le fichier n'est pas du JSON lisible{where} : est-ce bien le GeoJSON "
                "du référentiel ?"
            ]
        ) from error
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise ReferentielRefuse(
            [
                "Le fichier n'a pas la forme attendue : un GeoJSON « FeatureCollection » dont "
                "chaque objet est un quartier (propriétés code_qp, lib_qp, insee_com)."
            ]
        )
    _check_crs(data.get("crs"))
    features = data.get("features")
    if not isinstance(features, list):
        raise ReferentielRefuse(
            ["Le fichier n'a pas la forme attendue : la liste « features » manque."]
        )
    errors = _Errors()
    entries = []
    seen = {}
    warnings = []
    for number, feature in enumerate(features, 1):
        where = f"objet n° {number}"
        if not isinstance(feature, dict) or not isinstance(feature.get("properties"), dict):
            errors.add(where, "ce n'est pas un objet GeoJSON avec des propriétés.")
            continue
        properties = {str(k).strip().lower(): v for k, v in feature["properties"].items()}
        if number == 1 and not _first(properties, CODE_KEYS)[0]:
            raise ReferentielRefuse(
                [
                    "Le fichier n'a pas la forme attendue : ses objets n'ont pas de propriété "
                    "« code_qp » (le code du quartier, QN00304M). Propriétés trouvées : "
                    + _names(properties)
                    + "."
                ]
            )
        entry = _entry(properties, where, errors, warnings)
        try:
            shape = geometrie.read(feature.get("geometry"))
        except geometrie.GeometrieInvalide as error:
            errors.add(where, f"{_capital(str(error))}.")
            continue
        if entry is None or not _unique(entry, where, seen, errors):
            continue
        entry.contour = geometrie.simplify(shape)
        entries.append(entry)
    errors.raise_if_any()
    return Lecture(filename, "GeoJSON", entries, warnings)


def _check_crs(crs):
    """A GeoJSON naming another coordinate system than WGS 84 (an old one in Lambert-93)."""
    if crs is None:
        return
    name = ""
    if isinstance(crs, dict) and isinstance(crs.get("properties"), dict):
        name = str(crs["properties"].get("name", ""))
    if not any(wgs in name.lower() for wgs in WGS84_NAMES):
        raise ReferentielRefuse(
            [
                f"Le fichier est dans le système de coordonnées « {name[:60] or '?'} » : "
                "exportez-le en WGS 84 (EPSG:4326, longitudes et latitudes), comme le "
                "GeoJSON publié par l'ANCT."
            ]
        )


def _read_csv(filename, text):
    import csv
    import io

    header_line = text.lstrip().split("\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=header_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    errors = _Errors()
    entries = []
    seen = {}
    warnings = []
    line = 1
    try:
        header = None
        for cells in reader:
            if header is None:
                if not any(cell.strip() for cell in cells):
                    line = reader.line_num + 1
                    continue
                header = [cell.strip().lower() for cell in cells]
                if not any(key in header for key in CODE_KEYS) or not any(
                    key in header for key in NAME_KEYS
                ):
                    raise ReferentielRefuse(
                        [
                            f"Ligne {line} : les colonnes attendues manquent — « code_qp » "
                            "(code du quartier), « lib_qp » (son nom) et « insee_com » (code "
                            "INSEE de ses communes). Colonnes trouvées : "
                            + _names(dict.fromkeys(header))
                            + "."
                        ]
                    )
                line = reader.line_num + 1
                continue
            where = f"ligne {line}"
            line = reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            properties = dict(zip(header, cells, strict=False))
            entry = _entry(properties, where, errors, warnings)
            if entry is not None and _unique(entry, where, seen, errors):
                entries.append(entry)
            if len(entries) > MAX_QUARTIERS:
                break
    except csv.Error as error:
        raise ReferentielRefuse(
            [
                f"Ligne {line} : lecture impossible, une cellule est trop longue ou un guillemet "
                "n'est pas refermé."
            ]
        ) from error
    if header is None:
        raise ReferentielRefuse(["Le fichier est vide."])
    errors.raise_if_any()
    return Lecture(filename, "CSV", entries, warnings)


def _names(properties):
    names = [str(name)[:40] for name in list(properties)[:12]]
    return ", ".join(f"« {name} »" for name in names) or "aucune"


def _capital(text):
    return text[:1].upper() + text[1:]


def _first(properties, keys):
    for key in keys:
        if key in properties:
            return key, properties[key]
    return None, None


def _text(value):
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return collapse_whitespace(str(value))


def _entry(properties, where, errors, warnings):
    """A QuartierLu from the properties of a feature or the cells of a line, or None."""
    failed = errors.count
    key, raw = _first(properties, CODE_KEYS)
    code = _text(raw)
    code = code.upper() if code else code
    if not code:
        errors.add(where, "le code du quartier (code_qp) manque.")
    elif len(code) > 20 or not QUARTIER_CODE.match(code):
        errors.add(where, f"le code « {_shown(code)} » n'est pas un code QPV (QN00304M).")
    nom = _text(_first(properties, NAME_KEYS)[1])
    if nom is None or not nom:
        errors.add(where, f"le nom du quartier {code or ''} (lib_qp) manque.".replace("  ", " "))
    elif len(nom) > NAME_MAX_LENGTH or control_character(nom):
        errors.add(
            where,
            f"le nom du quartier est trop long (au plus {NAME_MAX_LENGTH} caractères)."
            if len(nom) > NAME_MAX_LENGTH
            else "le nom du quartier contient un caractère de contrôle invisible.",
        )
    communes = _communes(properties, where, errors, warnings, code)
    region = _region(_first(properties, REGION_KEYS)[1], where, errors)
    if errors.count > failed:
        return None
    return QuartierLu(code=code, nom=nom, communes=communes, region=region)


def _shown(value):
    text = "".join(c if c.isprintable() else "?" for c in str(value))
    return text if len(text) <= 30 else text[:30] + "…"


def _split(value, separators):
    if value is None:
        return []
    if isinstance(value, list):
        values = [_text(v) for v in value]
        return values if all(v is not None for v in values) else None
    text = _text(value)
    if text is None:
        return None
    return [part for part in separators.split(text.strip()) if part]


def _communes(properties, where, errors, warnings, code):
    key, raw = _first(properties, COMMUNES_KEYS)
    codes = _split(raw, CODE_SEPARATORS)
    if codes is None:
        errors.add(where, "les codes INSEE des communes (insee_com) sont illisibles.")
        return []
    codes = [c.upper().zfill(5) if c.isdigit() and len(c) == 4 else c.upper() for c in codes]
    if not codes:
        errors.add(where, "le code INSEE de la commune du quartier (insee_com) manque.")
        return []
    wrong = [c for c in codes if not COMMUNE_CODE.match(c)]
    if wrong:
        errors.add(
            where,
            f"le code de commune « {_shown(wrong[0])} » n'est pas un code INSEE (03185).",
        )
        return []
    codes = list(dict.fromkeys(codes))
    names = _split(_first(properties, COMMUNE_NAMES_KEYS)[1], NAME_SEPARATORS) or []
    if names and len(names) != len(codes):
        warnings.append(
            f"{_capital(where)} ({code}) : {len(names)} noms de communes pour {len(codes)} "
            "codes, les noms ne sont pas repris."
        )
        names = []
    if any(len(n) > NAME_MAX_LENGTH or control_character(n) for n in names):
        errors.add(where, "un nom de commune (lib_com) est trop long ou illisible.")
        return []
    return list(zip(codes, names or [""] * len(codes), strict=True))


def _region(raw, where, errors):
    region = _text(raw)
    if not region:
        if region is None:
            errors.add(where, "le code région (insee_reg) est illisible.")
        return ""
    region = region.zfill(2) if region.isdigit() and len(region) == 1 else region
    if not REGION_CODE.match(region):
        errors.add(where, f"le code région « {_shown(region)} » n'est pas un code INSEE (84).")
        return ""
    return region


def _unique(entry, where, seen, errors):
    if entry.code in seen:
        errors.add(where, f"le quartier {entry.code} figure déjà plus haut ({seen[entry.code]}).")
        return False
    seen[entry.code] = where
    return True


# Applying ----------------------------------------------------------------------------------


def check_guard(count, current, forcer):
    """Refuse a file of `count` quartiers against a référentiel of `current` (see the
    module's docstring), unless forced."""
    if forcer or current < GARDE_MINIMUM or count >= current * GARDE_PROPORTION:
        return
    raise ReferentielRefuse(
        [
            f"Le fichier ne décrit que {_quartiers(count)}, quand le référentiel en compte "
            f"{current} aujourd'hui : est-ce bien le référentiel national complet ? Rien n'a "
            "été enregistré. Pour charger ce fichier quand même (les quartiers absents restent "
            "tels quels), cochez la case « Forcer l’import » (commande : --forcer)."
        ]
    )


def apply_referentiel(lecture, *, utilisateur=None, forcer=False):
    """Create and update the quartiers of a checked file (see the module's docstring);
    a `Rapport`. Raises `ReferentielRefuse` (the guard) with nothing written."""
    with transaction.atomic():
        existing = {q.code: q for q in Quartier.objects.select_for_update().order_by("code")}
        check_guard(len(lecture.quartiers), len(existing), forcer)
        rapport = Rapport(
            fichier=lecture.fichier,
            format=lecture.format,
            avertissements=list(lecture.avertissements),
            force=forcer
            and len(existing) >= GARDE_MINIMUM
            and len(lecture.quartiers) < len(existing) * GARDE_PROPORTION,
        )
        communes = _apply_communes(lecture, rapport)
        Through = Quartier.communes.through
        linked = {}
        for quartier_id, commune_id in Through.objects.values_list("quartier_id", "commune_id"):
            linked.setdefault(quartier_id, set()).add(commune_id)

        now = timezone.now()
        to_create, to_update, relink = [], [], {}
        for entry in lecture.quartiers:
            wanted = {communes[code].pk for code, _ in entry.communes}
            quartier = existing.get(entry.code)
            if quartier is None:
                quartier = Quartier(
                    code=entry.code,
                    nom=entry.nom,
                    region=entry.region,
                    contour=entry.contour,
                    contour_demonstration=False,
                )
                to_create.append(quartier)
                relink[entry.code] = wanted
                rapport.crees.append(entry.code)
                continue
            changed = _update(quartier, entry, lecture.avec_contours)
            if linked.get(quartier.pk, set()) != wanted:
                relink[entry.code] = wanted
                changed = True
            if changed:
                quartier.updated_at = now
                to_update.append(quartier)
                rapport.modifies.append(entry.code)
            else:
                rapport.inchanges.append(entry.code)
        Quartier.objects.bulk_create(to_create, batch_size=500)
        if to_update:
            Quartier.objects.bulk_update(
                to_update,
                ["nom", "region", "contour", "contour_demonstration", "updated_at"],
                batch_size=500,
            )
        if relink:
            ids = {q.code: q.pk for q in [*to_create, *to_update]}
            Through.objects.filter(quartier_id__in=[ids[c] for c in relink]).delete()
            Through.objects.bulk_create(
                [
                    Through(quartier_id=ids[code], commune_id=commune_id)
                    for code, wanted in relink.items()
                    for commune_id in sorted(wanted)
                ],
                batch_size=900,
            )
        in_file = {entry.code for entry in lecture.quartiers}
        rapport.laisses = sorted(code for code in existing if code not in in_file)
        rapport.trace = ImportReferentiel.objects.create(
            fichier=lecture.fichier[:255],
            importe_par=utilisateur if getattr(utilisateur, "pk", None) else None,
            crees=len(rapport.crees),
            modifies=len(rapport.modifies),
            inchanges=len(rapport.inchanges),
            laisses=len(rapport.laisses),
            avec_contours=lecture.avec_contours,
            force=rapport.force,
        )
    return rapport


def _update(quartier, entry, avec_contours):
    """Set the file's values on an existing quartier; whether anything changed."""
    changed = False
    if quartier.nom != entry.nom:
        quartier.nom = entry.nom
        changed = True
    if entry.region and quartier.region != entry.region:
        quartier.region = entry.region
        changed = True
    if avec_contours and (quartier.contour != entry.contour or quartier.contour_demonstration):
        quartier.contour = entry.contour
        quartier.contour_demonstration = False
        changed = True
    return changed


def _apply_communes(lecture, rapport):
    """The Commune of every code of the file, by code: created when missing, renamed when
    the file names it otherwise."""
    names = {}
    for entry in lecture.quartiers:
        for code, nom in entry.communes:
            if nom or code not in names:
                names[code] = nom or names.get(code, "")
    communes = {c.code: c for c in Commune.objects.all()}
    new = [Commune(code=code, nom=nom) for code, nom in names.items() if code not in communes]
    renamed = []
    for code, nom in names.items():
        commune = communes.get(code)
        if commune is not None and nom and commune.nom != nom:
            commune.nom = nom
            renamed.append(commune)
    Commune.objects.bulk_create(new, batch_size=500)
    if renamed:
        Commune.objects.bulk_update(renamed, ["nom"], batch_size=500)
    rapport.communes_creees = len(new)
    if new and not all(c.pk for c in new):  # backends that do not return the new keys
        communes = {c.code: c for c in Commune.objects.all()}
    else:
        communes.update({c.code: c for c in new})
    return communes


def import_referentiel(filename, content, *, utilisateur=None, forcer=False):
    """Read, check and apply a file of the référentiel: a `Rapport`, or
    `ReferentielRefuse` with nothing written."""
    lecture = read_referentiel(filename, content)
    try:
        return apply_referentiel(lecture, utilisateur=utilisateur, forcer=forcer)
    except IntegrityError as error:  # another load created the same quartier meanwhile
        raise ReferentielRefuse(
            [
                "Un autre chargement du référentiel a eu lieu en même temps : rien n'a été "
                "enregistré. Chargez le fichier de nouveau."
            ]
        ) from error
