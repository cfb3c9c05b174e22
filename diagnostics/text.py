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
