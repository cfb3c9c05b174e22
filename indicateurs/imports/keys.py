"""Natural keys of a file of measures: which indicator, which quartier a row names.

A `Resolver` loads a diagnostic's indicators and the quartiers in two queries, then answers
every row from memory (answers are remembered: a file names few distinct indicators and
quartiers). Unknown or ambiguous names raise `ValueError` with a French message.
"""

import re
from typing import NamedTuple

from django.db.models.functions import Coalesce

from diagnostics.models import Quartier
from diagnostics.text import fingerprint, normalize_key
from indicateurs.models import TERRITOIRE, Indicateur

# What a Quartier cell may say for the whole territory (compared by `quartier_key`).
TERRITORY_NAMES = ("ensemble du territoire", "ensemble", "territoire", "tout le territoire")
_QPV_CODE = re.compile(r"\bQN\d{5}[A-Z]\b", re.IGNORECASE)
_PUNCTUATION = re.compile(r"[-'’.,()]")


class IndicatorRef(NamedTuple):
    pk: int
    libelle: str
    type: str
    parent: str  # the libellé of its sous-thème (or thème)


def quartier_key(text):
    """'Bien-Assis', 'bien assis' and 'BIEN ASSIS' give the same key."""
    return normalize_key(_PUNCTUATION.sub(" ", text))


class Resolver:
    """Finds indicators (by identifier or libellé) and quartiers (by code or name)."""

    def __init__(self, diagnostic):
        self.diagnostic = diagnostic
        rows = (
            Indicateur.objects.du_diagnostic(diagnostic)
            .annotate(parent=Coalesce("sous_theme__libelle", "theme__libelle"))
            .values_list("pk", "libelle", "type", "parent", "cle")
        )
        self.indicators = {}
        self._by_cle = {}
        for pk, libelle, type_, parent, cle in rows:
            ref = IndicatorRef(pk, libelle, type_, parent)
            self.indicators[pk] = ref
            self._by_cle.setdefault(cle, []).append(ref)
        concerned = set(diagnostic.quartiers.values_list("pk", flat=True))
        self._quartiers = {}  # code -> (pk, nom)
        self._names = {}  # quartier_key(nom) -> [pk, …], within the diagnostic's quartiers
        for pk, code, nom in Quartier.objects.values_list("pk", "code", "nom"):
            self._quartiers[code.upper()] = (pk, nom, not concerned or pk in concerned)
            if not concerned or pk in concerned:
                self._names.setdefault(quartier_key(nom), []).append(pk)
        territory = {quartier_key(name) for name in TERRITORY_NAMES}
        if diagnostic.territoire:
            territory.add(quartier_key(diagnostic.territoire))
        self._territory = territory
        self._indicator_answers = {}
        self._quartier_answers = {}

    # Indicators ---------------------------------------------------------------------------

    def indicator(self, identifiant, libelle):
        """The `IndicatorRef` a row names, by its identifier or else its libellé."""
        return _remembered(self._indicator_answers, (identifiant, libelle), self._indicator)

    def _indicator(self, key):
        identifiant, libelle = key[0].strip(), key[1].strip()
        if identifiant:
            return self._by_identifier(identifiant, libelle)
        if not libelle:
            raise ValueError("indicateur manquant : donnez son libellé ou son identifiant.")
        found = self._by_cle.get(fingerprint(libelle), [])
        if not found:
            raise ValueError(
                f"indicateur « {_short(libelle)} » introuvable dans ce diagnostic "
                "(casse et accents ignorés) : vérifiez son libellé ou donnez son identifiant."
            )
        if len(found) > 1:
            parents = ", ".join(
                f"« {_short(ref.parent, 40)} » (identifiant {ref.pk})" for ref in found
            )
            raise ValueError(
                f"indicateur « {_short(libelle)} » présent plusieurs fois dans ce diagnostic "
                f"({parents}) : précisez lequel dans une colonne Identifiant."
            )
        return found[0]

    def _by_identifier(self, identifiant, libelle):
        number = identifiant.removesuffix(".0")
        if not number.isdigit():
            raise ValueError(
                f"identifiant « {_short(identifiant)} » : un identifiant d'indicateur est un "
                "nombre entier."
            )
        ref = self.indicators.get(int(number))
        if ref is None:
            raise ValueError(
                f"identifiant {int(number)} : aucun indicateur de ce diagnostic ne porte cet "
                "identifiant."
            )
        if libelle and fingerprint(libelle) != fingerprint(ref.libelle):
            raise ValueError(
                f"identifiant {ref.pk} : c'est l'indicateur « {_short(ref.libelle)} », "
                f"pas « {_short(libelle)} »."
            )
        return ref

    # Quartiers ----------------------------------------------------------------------------

    def quartier(self, text):
        """The pk of the quartier a cell names, None for the whole territory."""
        return _remembered(self._quartier_answers, text, self._quartier)

    def _quartier(self, text):
        text = text.strip()
        key = quartier_key(text)
        if not key or key in self._territory:
            return None
        code = _QPV_CODE.search(text)
        if code:
            found = self._quartiers.get(code.group().upper())
            if found is None:
                raise ValueError(f"quartier « {_short(text)} » : code QPV inconnu.")
            pk, nom, concerned = found
            if not concerned:
                raise ValueError(
                    f"quartier « {_short(text)} » : {nom} ne fait pas partie des quartiers "
                    "de ce diagnostic."
                )
            return pk
        found = self._names.get(key, [])
        if len(found) == 1:
            return found[0]
        if found:
            raise ValueError(
                f"quartier « {_short(text)} » : plusieurs quartiers portent ce nom, "
                "donnez son code QPV (par exemple QN00304M)."
            )
        raise ValueError(
            f"quartier « {_short(text)} » inconnu : donnez son code QPV (par exemple "
            f"QN00304M) ou son nom, ou « {TERRITOIRE} » pour tout le territoire."
        )


def _remembered(answers, key, compute):
    """compute(key), remembered with its error: each distinct cell is resolved once."""
    if key not in answers:
        try:
            answers[key] = (compute(key), None)
        except ValueError as error:
            answers[key] = (None, str(error))
    value, error = answers[key]
    if error is not None:
        raise ValueError(error)
    return value


def _short(text, length=60):
    return text if len(text) <= length else f"{text[: length - 1]}…"
