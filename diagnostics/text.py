"""Text helpers shared by the models, the importers and the search."""

import hashlib
import re
import unicodedata

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
