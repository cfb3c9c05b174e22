"""A row of a file of measures once read, and the rules both import paths share about it:
its key, when it changes an existing measure, the message of a repeated key (the bulk
path, `measures`, and the resource, `resource`)."""

from typing import NamedTuple


class CleanMeasure(NamedTuple):
    """A row resolved: what the measure of its key must hold."""

    line: int
    indicateur_id: int
    quartier_id: int | None
    annee: int
    type_periode: str
    numero_periode: int
    valeur: object  # Decimal or None
    texte: str
    source: str | None  # None: keep the measure's
    commentaire: str | None

    @property
    def key(self):
        return (
            self.indicateur_id,
            self.quartier_id,
            self.annee,
            self.type_periode,
            self.numero_periode,
        )


def duplicate_message(first_line):
    return f"même indicateur, même quartier et même période qu'à la ligne {first_line}."


def is_changed(old, measure):
    """True when importing `measure` over the existing measure `old` changes something.

    An imported value over a demonstration one (`fictive`) always changes it: it becomes real.
    """
    return (
        old.valeur != measure.valeur
        or old.texte != measure.texte
        or (measure.source is not None and old.source != measure.source)
        or (measure.commentaire is not None and old.commentaire != measure.commentaire)
        or old.fictive
    )
