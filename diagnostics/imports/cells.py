"""Rules for the text of one cell of a source table: cleaning, items, pilier labels, headers.

These functions know nothing of files or of the database; the reader applies them.
"""

import functools
import html
import re

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


def split_items(text):
    """The items of a Difficultés or Indicateur cell, in order.

    A cell splits at line breaks, at a bullet opening a line, and inside a line at " - "
    except between two numbers ("11 - 15 ans"). En dashes inside a line ("QPV – les
    clubs"), hyphens inside words ("pré-ados", "16-17 ans") and "-->" never split.
    Trailing commas and semicolons are trimmed and empty items dropped.

    A line opening with "• " (the site's exports in the source layout write each item so)
    is one item, as written: it never splits inside, nothing is trimmed at its end, and
    the lines after it that open with no bullet continue it (an item on several lines).
    """
    items = []
    continued = False  # the previous line was a "• " item or its continuation
    for line in clean_cell(text).split("\n"):
        if _WHOLE_ITEM.match(line):
            items.append(_WHOLE_ITEM.sub("", line, count=1))
            continued = True
            continue
        if continued and not _LEADING_BULLET.match(line):
            items[-1] = f"{items[-1]}\n{line}"
            continue
        continued = False
        for part in _INLINE_SEPARATOR.split(_LEADING_BULLET.sub("", line, count=1)):
            item = _TRAILING_PUNCTUATION.sub("", part).strip()
            if item:
                items.append(item)
    return items


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
        and len(split_items(cleaned)) == 1
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
