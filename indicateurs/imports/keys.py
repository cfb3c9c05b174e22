"""Natural keys of a file of measures: which indicator, which place a row names.

A `Resolver` loads a diagnostic's indicators, the quartiers and the comparison territories
in three queries, then answers every row from memory (answers are remembered: a file names
few distinct indicators and places). Unknown or ambiguous names raise `ValueError` with a
French message.

It also keeps, in the file's order, the kind of period of each indicator's series
(`check_period`): an indicator without periodicity takes the kind of its first observed
value in the file (`periodicities`, written with the measures).
"""

import re
from typing import NamedTuple

from django.db.models.functions import Coalesce

from diagnostics.models import Quartier
from diagnostics.text import fingerprint, normalize_key
from indicateurs.models import (
    PERIODICITE_DE,
    TERRITOIRE,
    TYPE_PERIODE_DE,
    Indicateur,
    Mesure,
    TerritoireComparaison,
    period_mismatch_message,
)

# What a Quartier cell may say for the whole territory (compared by `quartier_key`).
TERRITORY_NAMES = ("ensemble du territoire", "ensemble", "territoire", "tout le territoire")
_QPV_CODE = re.compile(r"\bQN\d{5}[A-Z]\b", re.IGNORECASE)
_PUNCTUATION = re.compile(r"[-'’.,()]")


class IndicatorRef(NamedTuple):
    pk: int
    libelle: str
    type: str
    parent: str  # the libellé of its sous-thème (or thème)
    periodicite: str = ""
    taux: bool = False

    @property
    def type_periode(self):
        """As `Indicateur.type_periode`: None when blank or "ponctuelle"."""
        return TYPE_PERIODE_DE.get(self.periodicite)


class Place(NamedTuple):
    """Where a row is measured: a quartier, a comparison territory, or neither (the whole
    territory)."""

    quartier_id: int | None = None
    territoire_id: int | None = None


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
            .values_list("pk", "libelle", "type", "parent", "cle", "periodicite", "taux")
        )
        self.indicators = {}
        self._by_cle = {}
        for pk, libelle, type_, parent, cle, periodicite, taux in rows:
            ref = IndicatorRef(pk, libelle, type_, parent, periodicite, taux)
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
        self._comparisons = {}  # code (upper case) -> pk
        self._comparison_names = {}  # quartier_key of code or nom -> {pk, …}
        self.comparison_codes = {}  # pk -> code
        for pk, code, nom in TerritoireComparaison.objects.values_list("pk", "code", "nom"):
            self._comparisons[code.strip().upper()] = pk
            self.comparison_codes[pk] = code
            for name in (code, nom):
                self._comparison_names.setdefault(quartier_key(name), set()).add(pk)
        self._indicator_answers = {}
        self._place_answers = {}
        # pk -> (kind of period, line) of the indicators without periodicity, from the first
        # observed value of each in the file.
        self.first_kinds = {}

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

    # Places -----------------------------------------------------------------------------

    def place(self, text):
        """The `Place` a Quartier cell names: one of the diagnostic's quartiers (by code or
        name), the whole territory, or else a comparison territory (by code or name)."""
        return _remembered(self._place_answers, text, self._place)

    def quartier(self, text):
        """The pk of the quartier a cell names, None for the whole territory (or a
        comparison territory)."""
        return self.place(text).quartier_id

    def _place(self, text):
        text = text.strip()
        key = quartier_key(text)
        if not key or key in self._territory:
            return Place()
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
            return Place(quartier_id=pk)
        found = self._names.get(key, [])
        if len(found) == 1:
            return Place(quartier_id=found[0])
        if found:
            raise ValueError(
                f"quartier « {_short(text)} » : plusieurs quartiers portent ce nom, "
                "donnez son code QPV (par exemple QN00304M)."
            )
        comparison = self._comparisons.get(text.upper())
        if comparison is not None:
            return Place(territoire_id=comparison)
        comparisons = self._comparison_names.get(key, set())
        if len(comparisons) == 1:
            return Place(territoire_id=next(iter(comparisons)))
        if comparisons:
            codes = ", ".join(sorted(self.comparison_codes[pk] for pk in comparisons))
            raise ValueError(
                f"quartier « {_short(text)} » : plusieurs territoires de comparaison portent "
                f"ce nom, donnez son code ({codes})."
            )
        raise ValueError(
            f"quartier « {_short(text)} » inconnu : donnez son code QPV (par exemple "
            f"QN00304M) ou son nom, « {TERRITOIRE} » pour tout le territoire, ou le code "
            "ou le nom d'un territoire de comparaison (par exemple FM pour la France "
            "métropolitaine)."
        )

    # Periods of the series ----------------------------------------------------------------

    def check_period(self, indicator, nature, type_periode, line):
        """Refuse (ValueError) an observed value whose kind of period is not its
        indicator's series'. An indicator without periodicity takes the kind of its first
        observed value in the file (call in the file's order)."""
        if nature != Mesure.Nature.VALEUR:
            return
        if indicator.periodicite:
            if indicator.type_periode not in (None, type_periode):
                raise ValueError(period_mismatch_message(_as_indicateur(indicator), type_periode))
            return
        kind, first_line = self.first_kinds.setdefault(indicator.pk, (type_periode, line))
        if kind != type_periode:
            as_set = _as_indicateur(indicator, PERIODICITE_DE[kind])
            raise ValueError(
                f"{period_mismatch_message(as_set, type_periode)} Sa périodicité, encore "
                f"vide, est celle de sa première valeur dans ce fichier (ligne {first_line})."
            )

    def periodicities(self):
        """{indicator pk: periodicity} that the file gives to indicators without one."""
        return {pk: PERIODICITE_DE[kind] for pk, (kind, _line) in self.first_kinds.items()}


def _as_indicateur(indicator, periodicite=None):
    """An unsaved Indicateur with what `period_mismatch_message` reads."""
    return Indicateur(libelle=indicator.libelle, periodicite=periodicite or indicator.periodicite)


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
