"""How a value of an indicator is shown: French number format and statistical secrecy.

Secret statistique: published statistics never reveal small counts of people. It applies
to an indicator that counts people (`Indicateur.compte_des_personnes`); its threshold is
the indicator's (`Indicateur.seuil`: `seuil_secret`, else `settings.SECRET_STATISTIQUE_SEUIL`,
5; 11 for households of fiscal sources). The staff of a contract (its Équipe ville and
Administrateurs: `diagnostics.access.edits_diagnostic`) see every number of its
diagnostic; everyone else (partners, anonymous visitors, staff of other contracts) is
shown "secret" instead of a hidden value.

Which values are hidden (`hidden_measures`, the only place that decides it):
- **primary secrecy**: an observed value under the threshold (for a rate: its numerator or
  its denominator under the threshold, the rate and both terms are hidden). Observed
  means the values and the references of each scope, and the comparison territories';
  never a target, an objective set by the contract;
- **secondary secrecy**: the whole territory and its quartiers, for one period, may add
  up (the demo: 362 = 139 + 83 + 140): a quartier hidden beside a total shown would be the
  total minus the others. So when a quartier of a group is hidden, the territory's value
  of that period is hidden too; when the territory's is hidden (under the threshold
  itself), so is its smallest quartier. A group holds the values and the references of
  its period (a reference often repeats the value of its year): every cell of a hidden
  place is hidden. What is left shown can then only give the sum of the hidden values,
  which keeps each of them (and the total) open: every hidden quartier stays anywhere
  under the threshold. Choosing another quartier instead would not do: knowing it is the
  smallest value shown, and the others under the threshold, pins them down in edge cases
  (4 + 4 = 8, 0 + 5 = 5): `tests/indicateurs/test_secret.py` checks every total of three
  quartiers. For a rate, the same holds of its numerators and denominators, since the
  whole cell is hidden.

All hidden values are shown the same way ("secret"), whether hidden for being small or
to protect another.

Nothing derived from a hidden value is served either: the change between two periods when
either is hidden, a status computed from it (`indicateurs.tableau` evaluates on what is
shown only), a gap to a comparison territory, a point of a chart and the chart's scale
(`indicateurs.charts`, drawn from the values shown only).

`Secret` gathers, for one user, what a set of measures hides; every page, export and
chart shows values through it (or through `display_value` for values that are never
secret): there is no other path from a stored value to the screen.
"""

from decimal import Decimal

from diagnostics.access import edits_diagnostic

from .models import Indicateur, Mesure

# Between thousands: a narrow no-break space, as French typography has it.
THOUSANDS_SEPARATOR = "\u202f"
MASKED_LABEL = "secret"


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


def sees_secrets(user, diagnostic_id):
    """Whether this user sees the values hidden by the secret statistique in this
    diagnostic: those who edit it."""
    return edits_diagnostic(user, diagnostic_id)


# Which values are hidden -----------------------------------------------------------------


def counts_of(mesure, indicateur):
    """The counts of people a measure reveals: its value, or a rate's two terms. None
    when it reveals none (a written constat, a rate given without its terms)."""
    if indicateur.taux:
        if mesure.numerateur is None:
            return None
        return (mesure.numerateur, mesure.denominateur)
    if mesure.valeur is None:
        return None
    return (mesure.valeur,)


def hidden_measures(indicateur, mesures):
    """The pks of those of `mesures` (measures of `indicateur`) that the secret hides.

    `mesures` must hold, for each period concerned, the whole group: the territory's
    values and references and every quartier's (see the module's documentation), else a
    value could be hidden too little. Measures, or any objects with their fields
    (`indicateurs.tableau.Cellule`).
    """
    if not indicateur.compte_des_personnes:
        return set()
    seuil = indicateur.seuil
    hidden, groups = set(), {}  # group: the territory and its quartiers, one period
    for mesure in mesures:
        if mesure.nature == Mesure.Nature.CIBLE:
            continue
        counts = counts_of(mesure, indicateur)
        if counts is None:
            continue
        if any(Decimal(count) < seuil for count in counts):
            hidden.add(mesure.pk)
        if not mesure.territoire_id:
            # Values and references of one period together: a reference is often the
            # value of its year, and would give away the same number.
            key = (mesure.annee, mesure.type_periode, mesure.numero_periode)
            groups.setdefault(key, []).append((mesure, counts))
    for group in groups.values():
        _protect(group, hidden)
    return hidden


def _protect(group, hidden):
    """Hide more cells of one group (the territory and its quartiers for one period: their
    values and references) so that no hidden cell can be computed back (see the module's
    documentation)."""
    totals = [mesure for mesure, _ in group if mesure.quartier_id is None]
    quartiers = sorted(
        ((mesure, counts) for mesure, counts in group if mesure.quartier_id is not None),
        key=lambda cells: (cells[1], cells[0].quartier_id),
    )
    if not totals or not quartiers:
        return  # no sum is shown: nothing to subtract from
    if any(mesure.pk in hidden for mesure, _ in quartiers):
        hidden.update(mesure.pk for mesure in totals)
    elif any(mesure.pk in hidden for mesure in totals):
        smallest = quartiers[0][0].quartier_id
        hidden.update(mesure.pk for mesure, _ in quartiers if mesure.quartier_id == smallest)
    else:
        return
    # Every cell of a hidden place is hidden: its value and its reference of that period.
    places = {mesure.quartier_id for mesure, _ in group if mesure.pk in hidden}
    hidden.update(mesure.pk for mesure, _ in group if mesure.quartier_id in places)


# What one user is shown ------------------------------------------------------------------


class Secret:
    """What the secret statistique hides from one user among an indicator's measures.

    Built from measures holding whole groups (`hidden_measures`); for staff, nothing is
    hidden and nothing is computed."""

    def __init__(self, indicateur, mesures, user):
        self.indicateur = indicateur
        self.hidden = (
            set()
            if sees_secrets(user, indicateur.diagnostic_id)
            else hidden_measures(indicateur, mesures)
        )

    def hides(self, mesure):
        return mesure is not None and mesure.pk in self.hidden

    def number(self, mesure):
        """The number of a measure when it is shown, else None."""
        if mesure is None or self.hides(mesure):
            return None
        return mesure.valeur

    def show(self, mesure, unit=True):
        """The text of a measure as this user may see it: "12,5 %", "secret", its constat,
        or "" for none."""
        if mesure is None:
            return ""
        if self.hides(mesure):
            return MASKED_LABEL
        if mesure.valeur is None:
            return mesure.texte
        return display_value(mesure.valeur, self.indicateur, unit=unit)

    def terms(self, mesure):
        """A rate's terms as shown: "12 / 48", or "" (none, or hidden)."""
        if mesure is None or mesure.numerateur is None or self.hides(mesure):
            return ""
        return f"{format_decimal(mesure.numerateur)} / {format_decimal(mesure.denominateur)}"


def display_value(value, indicateur, unit=True):
    """The text of a number that is never secret (a target, a value already checked by
    `Secret`): "12,5 %", or "" for none. `unit=False` leaves out the indicator's unit."""
    if value is None:
        return ""
    text = format_decimal(value)
    unite = unit and unit_of(indicateur)
    return f"{text}\u00a0{unite}" if unite else text


def unit_of(indicateur):
    """Its unit; a rate's is "%" unless staff wrote another."""
    return indicateur.unite or ("%" if indicateur.taux else "")


def hidden_for(indicateur_pks, user):
    """The pks of the measures of these indicators (their own: values, references and
    targets) that `user` may not read; for the comparison of two editions
    (`diagnostics.kinds.Kind.hidden`). Two queries, whatever their number."""
    indicateurs = Indicateur.objects.filter(pk__in=indicateur_pks, compte_des_personnes=True)
    indicateurs = {
        indicateur.pk: indicateur
        for indicateur in indicateurs
        if not sees_secrets(user, indicateur.diagnostic_id)
    }
    if not indicateurs:
        return set()
    by_indicateur = {pk: [] for pk in indicateurs}
    for mesure in Mesure.objects.filter(indicateur_id__in=indicateurs):
        by_indicateur[mesure.indicateur_id].append(mesure)
    hidden = set()
    for pk, mesures in by_indicateur.items():
        hidden |= hidden_measures(indicateurs[pk], mesures)
    return hidden
