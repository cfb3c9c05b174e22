"""Rules for the text of one cell of a source table: cleaning, items, pilier labels, headers.

These functions know nothing of files or of the database; the reader applies them.
"""

import functools
import html
import re
from dataclasses import dataclass

from diagnostics.models import CelluleSource
from diagnostics.text import collapse_whitespace, normalize_key

Column = CelluleSource.Colonne

# Tags that end a line in the pasted HTML; any other tag is dropped.
_BREAK_TAG = re.compile(r"</?(?:li|br|p|div)\b[^<>]*>", re.IGNORECASE)
_OTHER_TAG = re.compile(r"<!--.*?-->|</?[a-zA-Z][\w:-]*(?:\s[^<>]*)?/?>", re.DOTALL)
# "1 ^{er}" -> "1er": a superscript is glued to the word or number before it.
_GLUED_SUPERSCRIPT = re.compile(r"(?<=\w)\s*\^\{([^{}]*)\}")
_SUPERSCRIPT = re.compile(r"\^\{([^{}]*)\}")

# A bullet opening a line. A hyphen, asterisk or en dash counts only when followed by a
# space, a letter or nothing, so that "-->", "-5 %" or "--" are left alone.
_LEADING_BULLET = re.compile(r"^(?:[•▪◦]|[-*–](?=\s|[^\W\d_]|$))\s*")
# Inside a line: " - " (unless between two numbers, "11 - 15 ans") or a typographic bullet.
_INLINE_SEPARATOR = re.compile(r"(?<![\d\s])\s+-\s+|\s+-\s+(?![\d\s])|\s*[•▪◦]\s*")
_TRAILING_PUNCTUATION = re.compile(r"[\s,;]+$")
# "• item": a whole item per line (the layout of the site's own exports).
_WHOLE_ITEM = re.compile(r"^•\s+(?=\S)")

# "1 COHESION SOCIALE", "1. Cohésion sociale", "Pilier 1 : Cohésion", "Axe n° 2 – Emploi".
_PILIER_LABEL = re.compile(
    r"(?:(?:pilier|axe)\s*)?(?:n°\s*)?0*(?P<numero>[1-9]\d{0,2})(?=[\s.):\-–—]|$)"
    r"[\s.):\-–—]*(?P<libelle>.*)",
    re.IGNORECASE | re.DOTALL,
)

_PLURAL = r"(?:s|\(s\))?"
_HEADER_LABELS = {
    Column.PILIER: re.compile(rf"(?:pilier|axe){_PLURAL}"),
    Column.THEME: re.compile(rf"(?:theme|thematique){_PLURAL}"),
    Column.SOUS_THEME: re.compile(rf"sous[\s-]*(?:theme|thematique){_PLURAL}"),
    Column.DIFFICULTES: re.compile(r"difficult.*"),
    Column.INDICATEURS: re.compile(rf"indicateur{_PLURAL}(?:\s.*)?"),
}
_HEADER_TRAILING_PUNCTUATION = re.compile(r"[\s:.*]+$")
# The words a header label's key starts with (one per pattern above), and the length from
# which a cell is first looked at by its beginning only (see `header_column`).
_HEADER_WORDS = ("pilier", "axe", "theme", "thematique", "sous", "difficult", "indicateur")
_HEADER_HEAD = 40


@functools.lru_cache(maxsize=1024)
def clean_cell(text):
    """The text of a cell without HTML, one line per line break, white space collapsed.

    Remembered: the reader looks at each cell of a row several times (blank row, shifted
    row, names, items); a table of 20,000 rows gave 350,000 calls for 100,000 cells.

    `<li>`, `<br>`, `<p>` and `<div>` (opening or closing) become line breaks, other tags
    are removed, entities are decoded, `1 ^{er}` becomes `1er`; empty lines are dropped.
    """
    text = _BREAK_TAG.sub("\n", text)
    text = html.unescape(_OTHER_TAG.sub("", text))
    text = _SUPERSCRIPT.sub(r"\1", _GLUED_SUPERSCRIPT.sub(r"\1", text))
    lines = (collapse_whitespace(line) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def clean_label(text):
    """A name (pilier, thème, sous-thème) on a single line."""
    return collapse_whitespace(clean_cell(text))


# A lead-in: a phrase that announces those after it in the cell. It ends with ":" (the
# phrases continue it: "Il serait intéressant d'inciter : - à … - à …") or with a word that
# introduces examples ("…, notamment - le dispositif … - l'intervention …").
# Only words that never end a phrase that is complete: "par exemple", "en particulier" or
# "entre autres" may ("Des aides au logement par exemple"), so they are not lead-ins.
_EXAMPLES_WORDS = (
    r"notamment|dont|tel(?:le)?s? que|comme|y compris|parmi (?:eux|elles|lesquel(?:le)?s)"
)
_EXAMPLES_LEAD_IN = re.compile(rf"(?:^|[\s,(])(?:{_EXAMPLES_WORDS})(?:\s*:)?$", re.IGNORECASE)
_COLON_LEAD_IN = re.compile(r"(?:[:：]|(?:^|[\s,(])[àa] savoir)$", re.IGNORECASE)
# The end of a phrase of an enumeration ("- à …, - à ….") and of its last phrase.
_LIST_MARK = re.compile(r"[,;]\s*$")
_FULL_STOP = re.compile(r"[.!?…]\s*$")
# Phrases of a list of examples, once in their lead-in's item.
EXAMPLES_SEPARATOR = " ; "


@dataclass(frozen=True)
class LeadIn:
    """A lead-in found in a cell, and what became of it (for the import's warnings)."""

    text: str  # as written ("Il serait intéressant d'inciter :")
    phrases: int  # how many phrases it introduced (0: nothing followed it)
    examples: bool  # True: kept in one item with its examples; False: each phrase its item


@dataclass(frozen=True)
class CellItems:
    items: list
    lead_ins: list  # [LeadIn]


@dataclass
class _Part:
    text: str
    whole: bool  # a "• " item of the site's exports: taken as written
    listed: bool = False  # ended with "," or ";" before it was trimmed

    @property
    def lead_in(self):
        if self.whole:
            return None
        if _EXAMPLES_LEAD_IN.search(self.text):
            return "examples"
        if _COLON_LEAD_IN.search(self.text):
            return "colon"
        return None


def _parts(text):
    """The pieces of a cell, cut as described in `split_items`, before any lead-in rule."""
    parts = []
    continued = False  # the previous line was a "• " item or its continuation
    for line in clean_cell(text).split("\n"):
        if _WHOLE_ITEM.match(line):
            parts.append(_Part(_WHOLE_ITEM.sub("", line, count=1), whole=True))
            continued = True
            continue
        if continued and not _LEADING_BULLET.match(line):
            parts[-1].text = f"{parts[-1].text}\n{line}"
            continue
        continued = False
        for piece in _INLINE_SEPARATOR.split(_LEADING_BULLET.sub("", line, count=1)):
            item = _TRAILING_PUNCTUATION.sub("", piece).strip()
            if item:
                parts.append(_Part(item, whole=False, listed=bool(_LIST_MARK.search(piece))))
    return parts


def split_cell(text):
    """The items of a Difficultés or Indicateur cell, in order, and its lead-ins.

    The cell is cut as `split_items` says; then a lead-in is never left as an item of its
    own. A lead-in is a phrase ending with ":" (or "à savoir"), or with a word introducing
    examples ("notamment", "dont", "tel(le)s que", "comme", "y compris", "parmi
    lesquels"…), followed by phrases of the same cell. Its phrases run to the end of the
    cell, to the next lead-in, or to the last phrase of an enumeration (a phrase ending
    with "." after phrases ending with "," or ";": "- à …, - à ….").

    - After ":", each phrase becomes an item that starts with the lead-in, as written:
      "Il serait intéressant d'inciter : à la gestion des déchets". (The colon is kept:
      "Public visé : jeunes de 16 à 25 ans" reads right, without it it would not.)
    - After a word introducing examples, the lead-in and its examples make one item, the
      examples separated by " ; ": "…, notamment le dispositif … ; l'intervention …".
    - Two lead-ins in a row make one ("Actions : - notamment : - …").
    - A lead-in that nothing follows stays as it is.

    "• " items (the site's own exports) are never joined: they are the site's items.
    """
    parts = _parts(text)
    items, lead_ins = [], []
    index = 0
    while index < len(parts):
        part = parts[index]
        kind = part.lead_in
        index += 1
        if kind is None:
            items.append(part.text)
            continue
        lead = part.text
        # Lead-ins in a row make one; the last one's kind says what its phrases become.
        while index < len(parts) and parts[index].lead_in is not None:
            lead = f"{lead} {parts[index].text}"
            kind = parts[index].lead_in
            index += 1
        phrases, enumeration = [], False
        while index < len(parts) and not parts[index].whole and parts[index].lead_in is None:
            phrase = parts[index]
            phrases.append(phrase.text)
            index += 1
            if enumeration and _FULL_STOP.search(phrase.text):
                break  # the last phrase of "- à …, - à …."
            enumeration = enumeration or phrase.listed
        lead_ins.append(LeadIn(lead, len(phrases), kind == "examples"))
        if not phrases:
            items.append(lead)
        elif kind == "examples":
            items.append(f"{lead} {EXAMPLES_SEPARATOR.join(phrases)}")
        else:
            items.extend(f"{lead} {phrase}" for phrase in phrases)
    return CellItems(items, lead_ins)


def split_items(text):
    """The items of a Difficultés or Indicateur cell, in order (`split_cell`).

    A cell splits at line breaks, at a bullet opening a line, and inside a line at " - "
    except between two numbers ("11 - 15 ans"). En dashes inside a line ("QPV – les
    clubs"), hyphens inside words ("pré-ados", "16-17 ans") and "-->" never split.
    Trailing commas and semicolons are trimmed and empty items dropped. A lead-in and the
    phrases it introduces are kept together (see `split_cell`).

    A line opening with "• " (the site's exports in the source layout write each item so)
    is one item, as written: it never splits inside, nothing is trimmed at its end, and
    the lines after it that open with no bullet continue it (an item on several lines).
    """
    return split_cell(text).items


def lead_in_warning(column_name, lead_in):
    """The import's warning (in French) for a lead-in of a cell of the column `column_name`."""
    text = lead_in.text if len(lead_in.text) <= 90 else f"{lead_in.text[:89].rstrip()}…"
    where = f"cellule {column_name} : la phrase d'introduction « {text} »"
    number = lead_in.phrases
    if not number:
        return f"{where} n'est suivie de rien dans la cellule : gardée telle quelle, vérifiez-la."
    if lead_in.examples:
        phrases = "la phrase" if number == 1 else f"les {number} phrases"
        return f"{where} et {phrases} qu'elle introduit forment un seul élément : vérifiez-le."
    if number == 1:
        return f"{where} est reprise au début de la phrase qui la suit : vérifiez cet élément."
    return (
        f"{where} est reprise au début de chacune des {number} phrases qui la suivent, une par "
        "élément : vérifiez-les."
    )


def is_bulleted(text):
    """True when the cell opens with a bullet: a list of items."""
    return bool(_LEADING_BULLET.match(clean_cell(text)))


def is_short_label(text, max_length):
    """True when the cell reads as a name: one line, one item, no bullet."""
    cleaned = clean_cell(text)
    return (
        "\n" not in cleaned
        and len(cleaned) <= max_length
        and not is_bulleted(cleaned)
        and len(_parts(cleaned)) == 1
    )


def parse_pilier_label(label):
    """(numéro or None, libellé) of a cleaned pilier label; the libellé is kept as written.

    The libellé is empty when the label is only a number ("Pilier 2").
    """
    match = _PILIER_LABEL.fullmatch(label)
    if match is None:
        return None, label
    return int(match["numero"]), match["libelle"].strip()


def header_column(text):
    """The column a header cell names ("Thématiques", "DIFFICULTES :"), or None.

    Every cell of every row is asked (a header repeated after a page break is skipped): a
    long cell is first looked at by its beginning. Its key starts with the key of its first
    characters, and a header label's key starts with one of _HEADER_WORDS: when neither
    starts the other, the cell names no column, whatever follows.
    """
    if len(text) > _HEADER_HEAD:
        head = normalize_key(text[:_HEADER_HEAD])
        if head and not any(
            head.startswith(word) or word.startswith(head) for word in _HEADER_WORDS
        ):
            return None
    key = _HEADER_TRAILING_PUNCTUATION.sub("", normalize_key(text))
    for column, pattern in _HEADER_LABELS.items():
        if pattern.fullmatch(key):
            return column
    return None


def count_header_labels(cells):
    return sum(1 for cell in cells if header_column(cell) is not None)
