"""A row of a file of measures once read, and the rules every import path shares about it
(the bulk and copy paths, `measures`, and the resource, `resource`): its cleaning
(`clean_row`), its key, when it changes an existing measure, the message of a repeated
key."""

from typing import NamedTuple

from indicateurs.models import Mesure

from .values import (
    clean_commentaire,
    clean_source,
    is_no_data,
    parse_nature,
    parse_period,
    parse_term,
    parse_value,
    rate_from_terms,
)


class CleanMeasure(NamedTuple):
    """A row resolved: what the measure of its key must hold.

    The fields after `line` are columns of `Mesure` (the copy path stages them as such).
    """

    line: int
    indicateur_id: int
    nature: str  # a Mesure.Nature
    quartier_id: int | None
    territoire_id: int | None  # a comparison territory (then no quartier)
    annee: int
    type_periode: str
    numero_periode: int
    valeur: object  # Decimal or None (a rate's: computed from its terms)
    numerateur: object  # Decimal or None: the terms of a rate
    denominateur: object
    texte: str
    source: str | None  # None: keep the measure's
    commentaire: str | None

    @property
    def key(self):
        return measure_key(
            self.indicateur_id,
            self.nature,
            self.quartier_id,
            self.territoire_id,
            self.annee,
            self.type_periode,
            self.numero_periode,
        )


# The fields of `Mesure` that name a measure, in the order of `measure_key`.
KEY_FIELDS = (
    "indicateur_id",
    "nature",
    "quartier_id",
    "territoire_id",
    "annee",
    "type_periode",
    "numero_periode",
)


def measure_key(indicateur_id, nature, quartier_id, territoire_id, annee, type_periode, numero):
    """What names one measure (the model's unique constraints): the same tuple for a row of
    a file and for a measure of the database."""
    return (
        indicateur_id,
        str(nature),
        quartier_id,
        territoire_id,
        annee,
        str(type_periode),
        numero,
    )


NATURE_WORDS = {
    Mesure.Nature.VALEUR: "même période",
    Mesure.Nature.REFERENCE: "même référence (même période)",
    Mesure.Nature.CIBLE: "même cible (même période)",
}


def duplicate_message(first_line, nature=Mesure.Nature.VALEUR, comparison=False):
    """A row naming the same measure as an earlier one (`first_line`)."""
    place = "même territoire de comparaison" if comparison else "même quartier"
    return f"même indicateur, {place} et {NATURE_WORDS[nature]} qu'à la ligne {first_line}."


def is_changed(old, measure):
    """True when importing `measure` over the existing measure `old` changes something.

    An imported value over a demonstration one (`fictive`) always changes it: it becomes real.
    """
    return (
        old.valeur != measure.valeur
        or old.numerateur != measure.numerateur
        or old.denominateur != measure.denominateur
        or old.texte != measure.texte
        or (measure.source is not None and old.source != measure.source)
        or (measure.commentaire is not None and old.commentaire != measure.commentaire)
        or old.fictive
    )


# The cleaning of one row, shared by every path ---------------------------------------------


def clean_row(resolver, row):
    """(CleanMeasure or None, messages): the row resolved, or why it cannot be.

    Cells are checked in the resource's column order (indicator, nature, quartier, period,
    value and terms, source, commentaire) and every problem of the row is reported, except
    the value's when the indicator is unknown (its type decides what the value must be).
    Call it in the file's order: the first observed value of an indicator without
    periodicity sets the kind of period of its series (`Resolver.check_period`).
    """
    messages = []
    indicator = place = period = nature = None
    try:
        indicator = resolver.indicator(row.identifiant, row.indicateur)
    except ValueError as error:
        messages.append(str(error))
    try:
        nature = parse_nature(row.nature)
    except ValueError as error:
        messages.append(str(error))
    try:
        place = resolver.place(row.quartier)
    except ValueError as error:
        messages.append(str(error))
    if place is not None and place.territoire_id and nature not in (None, Mesure.Nature.VALEUR):
        messages.append(
            f"« {row.quartier.strip()[:60]} » est un territoire de comparaison : il n'a que des "
            "valeurs observées, ni référence ni cible."
        )
    try:
        period = parse_period(row.periode)
    except ValueError as error:
        messages.append(str(error))
    if indicator is not None and nature is not None and period is not None:
        try:
            resolver.check_period(indicator, nature, period.type_periode, row.line)
        except ValueError as error:
            messages.append(str(error))
    valeur, texte, numerateur, denominateur = None, "", None, None
    if indicator is not None:
        valeur, texte, numerateur, denominateur = _value_and_terms(
            row, indicator, nature, place, messages
        )
    source = commentaire = None
    if row.source is not None:
        try:
            source = clean_source(row.source)
        except ValueError as error:
            messages.append(str(error))
    if row.commentaire is not None:
        try:
            commentaire = clean_commentaire(row.commentaire)
        except ValueError as error:
            messages.append(str(error))
    if messages:
        return None, messages
    measure = CleanMeasure(
        row.line,
        indicator.pk,
        str(nature),
        place.quartier_id,
        place.territoire_id,
        period.annee,
        str(period.type_periode),
        period.numero,
        valeur,
        numerateur,
        denominateur,
        texte,
        source,
        commentaire,
    )
    return measure, []


def _value_and_terms(row, indicator, nature, place, messages):
    """(valeur, texte, numerateur, denominateur) of a row of `indicator`; its problems go
    to `messages`.

    A rate's observed value, for the territory or a quartier, is given by its terms (the
    Valeur cell may be empty; given, it must agree with them); a rate's reference, target
    or comparison territory's value may give the rate alone. Terms of an indicator that is
    not a rate are refused."""
    valeur, texte, numerateur, denominateur = None, "", None, None
    term_cells = {"numerateur": row.numerateur, "denominateur": row.denominateur}
    given_terms = {
        name: text for name, text in term_cells.items() if text is not None and not is_no_data(text)
    }
    value_ok = True
    if not is_no_data(row.valeur) or not given_terms:
        try:
            valeur, texte = parse_value(row.valeur, indicator, row.periode)
        except ValueError as error:
            messages.append(str(error))
            value_ok = False
    if texte and nature not in (None, Mesure.Nature.VALEUR):
        messages.append(
            f"valeur « {texte[:60]} » ({row.periode.strip()[:60]}) : une référence ou une cible "
            "est un nombre."
        )
    if not indicator.taux:
        if given_terms:
            messages.append(
                f"l'indicateur « {indicator.libelle[:60]} » n'est pas un taux : laissez vides "
                "son numérateur et son dénominateur."
            )
        return valeur, texte, None, None
    terms = {}
    for name, text in given_terms.items():
        try:
            terms[name] = parse_term(text, name, row.periode)
        except ValueError as error:
            messages.append(str(error))
    if len(given_terms) == 1:
        missing = "dénominateur" if "numerateur" in given_terms else "numérateur"
        messages.append(
            f"un taux se donne par son numérateur et son dénominateur : le {missing} manque "
            f"({row.periode.strip()[:60]})."
        )
    elif len(terms) == 2:
        numerateur, denominateur = terms["numerateur"], terms["denominateur"]
        try:
            valeur = rate_from_terms(
                numerateur, denominateur, valeur if value_ok else None, row.periode
            )
        except ValueError as error:
            messages.append(str(error))
    elif (
        not given_terms
        and nature == Mesure.Nature.VALEUR
        and (place is None or not place.territoire_id)
    ):
        messages.append(
            f"l'indicateur « {indicator.libelle[:60]} » est un taux : donnez le numérateur et "
            f"le dénominateur de sa valeur ({row.periode.strip()[:60]}), dans des colonnes "
            "Numérateur et Dénominateur ; le taux en est calculé."
        )
    return valeur, texte, numerateur, denominateur


def row_message(messages):
    """The messages of one row as one line of the report."""
    unique = dict.fromkeys(message[:1].upper() + message[1:] for message in messages)
    return " ".join(unique)


def set_values(instance, measure):
    """Set on a Mesure what a row says of its values (its key aside): the value or the
    constat, the rate's terms, and the source and commentaire when the file has them."""
    instance.valeur = measure.valeur
    instance.numerateur = measure.numerateur
    instance.denominateur = measure.denominateur
    instance.texte = measure.texte
    if measure.source is not None:
        instance.source = measure.source
    if measure.commentaire is not None:
        instance.commentaire = measure.commentaire
