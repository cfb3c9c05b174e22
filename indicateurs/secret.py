"""How a value of an indicator is shown: French number format and statistical secrecy.

Secret statistique: published statistics never reveal small counts of people. For an
indicator that counts people (`Indicateur.compte_des_personnes`), an observed value
under the threshold `settings.SECRET_STATISTIQUE_SEUIL` (default 5) is shown to partners
and anonymous visitors as "< 5", never as the number. Staff (Équipe ville,
Administrateur) see the numbers. The rule covers what is observed, the measures and the
reference value (a measure of a past year); not the target, an objective set by the
contract.

Every page, export and chart shows values through `display_value` (or asks `is_masked`
to leave a value out): there is no other path from a stored value to the screen. What
could give a masked value away is left out too: a change between two periods when either
is masked (`indicateurs.tableau`), a masked point of a chart and the chart's scale
(`indicateurs.charts`, drawn from the values shown only).
"""

from decimal import Decimal

from django.conf import settings

from comptes.roles import can_edit

# Between thousands: a narrow no-break space, as French typography has it.
THOUSANDS_SEPARATOR = "\u202f"


def threshold():
    return settings.SECRET_STATISTIQUE_SEUIL


def format_decimal(value, signed=False, grouping=True):
    """Decimal("1234.5000") -> "1 234,5"; `signed` adds "+" before a positive value;
    `grouping=False` leaves out the thousands separator ("1234,5", for CSV files)."""
    if value is None:
        return ""
    value = Decimal(value)
    text = format(value.normalize() if value else Decimal(0), "f")
    sign = "-" if text.startswith("-") else ("+" if signed and value > 0 else "")
    whole, _, decimals = text.lstrip("-").partition(".")
    groups = []
    while grouping and len(whole) > 3:
        whole, group = whole[:-3], whole[-3:]
        groups.insert(0, group)
    whole = THOUSANDS_SEPARATOR.join([whole, *groups])
    return f"{sign}{whole},{decimals}" if decimals else f"{sign}{whole}"


def is_masked(value, indicateur, user):
    """Whether this user may not see this value of the indicator (secret statistique)."""
    return (
        value is not None
        and indicateur.compte_des_personnes
        and Decimal(value) < threshold()
        and not can_edit(user)
    )


def masked_label():
    return f"< {threshold()}"


def display_value(value, indicateur, user, unit=True, observed=True):
    """The text of a value as this user may see it: "12,5 %", "< 5", or "" for none.

    `value` is a Decimal (or None), or a Mesure (its valeur, or its constat for a
    qualitative entry). `unit=False` leaves out the indicator's unit. `observed=False`
    for a target: an objective, never masked.
    """
    if hasattr(value, "valeur"):
        if value.valeur is None:
            return value.texte
        value = value.valeur
    if value is None:
        return ""
    if observed and is_masked(value, indicateur, user):
        return masked_label()
    text = format_decimal(value)
    if unit and indicateur.unite:
        return f"{text}\u00a0{indicateur.unite}"
    return text
