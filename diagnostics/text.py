"""Text helpers shared by the models, the importers and the search."""

import hashlib
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

_WHITESPACE = re.compile(r"\s+")


def strip_accents(text):
    """'Éducation à la santé' -> 'Education a la sante'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def collapse_whitespace(text):
    return _WHITESPACE.sub(" ", text).strip()


def normalize_key(text):
    """The comparison key of a name: accents removed, case folded, white space collapsed.

    Two names are "the same" for the uniqueness rules when their keys are equal:
    'Santé', 'SANTE' and ' santé ' all give 'sante'. The key is stored beside the
    name (field `cle`) so that the rule is a plain unique constraint, identical on
    SQLite and PostgreSQL, without a database collation or an extension.
    """
    return collapse_whitespace(strip_accents(text).casefold())


# Joining texts as sentences (`join_sentences`).
_FINAL_PUNCTUATION = ".!?…"
_CLOSING = "»\"')]’”"
_LIST_ENDING = re.compile(r"[\s,;:]+$")  # not a sentence's end: replaced by a full stop


def _ends_sentence(text):
    """True when `text` ends with final punctuation, possibly inside closing quotes or
    brackets ("… (voir plus haut.)", "« Oui ! »")."""
    return text.rstrip(_CLOSING + " \u00a0\u202f").endswith(tuple(_FINAL_PUNCTUATION))


def _capitalised(text):
    """The text with its first letter in capitals, when no digit comes before it
    ("« à propos »" -> "« À propos »"; "3e étage" is left alone)."""
    for index, char in enumerate(text):
        if char.isalnum():
            return text[:index] + char.upper() + text[index + 1 :] if char.isalpha() else text
    return text


def join_sentences(texts):
    """Texts put one after the other as sentences (the libellé of merged items).

    Each text is stripped and starts with a capital letter; it keeps its final punctuation
    (".", "!", "?", "…", also inside closing quotes or brackets) or, having none, gets a
    full stop, which replaces a trailing "," or ";". A text ending with ":" announces the
    next one: the colon stays and the next text is not capitalised ("Il serait intéressant
    d'inciter : à la gestion des déchets."); at the very end, it becomes a full stop.
    Empty texts are left out; texts are separated by one space.
    """
    texts = [text.strip() for text in texts if text and text.strip()]
    sentences = []
    announced = False  # the previous text ended with ":"
    for position, text in enumerate(texts):
        if not announced:
            text = _capitalised(text)
        last = position == len(texts) - 1
        announced = not last and text.endswith(":")
        if not announced and not _ends_sentence(text):
            text = f"{_LIST_ENDING.sub('', text)}."
        sentences.append(text)
    return " ".join(sentences)


def fingerprint(text):
    """A fixed-length key for long texts (items), safe in a unique index on PostgreSQL."""
    return hashlib.sha256(normalize_key(text).encode()).hexdigest()


# The rule for every text that reaches the database -----------------------------------
#
# Tab and line breaks (LF, CR) are the only control characters a text may hold: NUL is
# refused by PostgreSQL, the others are invisible, dropped by the XLSX exports and break
# the CSV/TSV re-import. C0 controls, DEL and the C1 controls (U+0080 to U+009F, which a
# file decoded with the wrong encoding often holds) are refused.
CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

# The longest libellé of a difficulté or an indicateur (a TextField: the database sets
# no limit, the model's validators and the forms do).
ITEM_MAX_LENGTH = 5000


def control_character(text):
    """The first forbidden control character of `text`, or None."""
    match = CONTROL_CHARACTER.search(text) if isinstance(text, str) else None
    return match.group() if match else None


def describe_character(char):
    """'U+0007' — how a message names an invisible character."""
    return f"U+{ord(char):04X}"


def control_character_message(char, label=None):
    where = f"« {label} » contient" if label else "Ce texte contient"
    return (
        f"{where} un caractère de contrôle invisible ({describe_character(char)}) : "
        "retirez-le (seuls la tabulation et les retours à la ligne sont acceptés)."
    )


@deconstructible
class TextValidator:
    """The validator of the rule above, put on the models' text fields and on every
    text field of the forms (`diagnostics.forms.fields.TextFormMixin`)."""

    code = "control_character"

    def __init__(self, label=None):
        self.label = label  # the field's name in the message (forms give it)

    def __call__(self, value):
        char = control_character(value)
        if char is not None:
            raise ValidationError(
                control_character_message(char, self.label),
                code=self.code,
                params={"value": value},
            )

    def __eq__(self, other):
        return isinstance(other, TextValidator) and self.label == other.label


validate_text = TextValidator()


def clean_parameter(value):
    """A query-string value that may feed a lookup: None when it is not clean text
    (a control character, NUL included), so that the caller ignores it."""
    if not isinstance(value, str) or control_character(value) is not None:
        return None
    return value


def is_ascii_integer(value):
    """'123' yes; '١٢٣', '𝟙𝟚𝟛', '1_000', '+1', ' 1' no (Python's int() takes them all)."""
    return isinstance(value, int) or (
        isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18
    )


# Sizes of files, in the units a French reader knows ----------------------------------------

_SIZE_UNITS = ("Ko", "Mo", "Go", "To")


def file_size(size):
    """A size in bytes as the interface shows it, in French units of 1024: '1 octet',
    '1000 octets', '10 Ko', '2,5 Mo' (one decimal at most, none when it is 0)."""
    size = max(int(size or 0), 0)
    if size < 1024:
        return f"{size}\xa0octet{'s' if size > 1 else ''}"
    value = size / 1024
    for unit in _SIZE_UNITS:
        rounded = round(value, 1)
        if rounded < 1024 or unit == _SIZE_UNITS[-1]:
            break
        value /= 1024
    number = f"{rounded:.1f}".removesuffix(".0").replace(".", ",")
    return f"{number}\xa0{unit}"


def file_size_over(size, limit):
    """The size of something refused for being over `limit`, never the limit's own text:
    '12,3 Mo', or 'plus de 10 Mo' when both would read '10 Mo'."""
    text = file_size(size)
    return f"plus de {text}" if text == file_size(limit) else text
