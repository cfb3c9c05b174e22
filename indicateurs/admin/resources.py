"""Flat resources of the admin for the indicators and their values (see
`diagnostics.admin.resources`): natural keys, never database ids."""

from import_export import fields
from import_export.widgets import ForeignKeyWidget

from diagnostics.admin.resources import (
    ELEMENT_FIELDS,
    ElementFlatResource,
    FlatResource,
    LookupWidget,
    cell_text,
    element_parent_lookups,
)
from diagnostics.models import Quartier
from diagnostics.text import fingerprint

from ..models import INFORMATIONS, Indicateur, Mesure


class IndicateurLibelleWidget(LookupWidget):
    not_found = "Aucun indicateur « {value} » à cet endroit du diagnostic « {diagnostic} »."

    def __init__(self):
        super().__init__(Indicateur, "libelle")

    def lookups(self, value, row):
        return {**element_parent_lookups(row), "cle": fingerprint(value)}


class IndicateurFlatResource(ElementFlatResource):
    class Meta(ElementFlatResource.Meta):
        model = Indicateur
        fields = (*ELEMENT_FIELDS, *INFORMATIONS)


class MesureFlatResource(FlatResource):
    related = (
        "quartier",
        "indicateur__diagnostic",
        "indicateur__sous_theme__theme__pilier",
        "indicateur__theme__pilier",
    )
    loaded = (
        "annee",
        "type_periode",
        "numero_periode",
        "valeur",
        "texte",
        "source",
        "commentaire",
        "quartier__code",
        "indicateur__libelle",
        "indicateur__diagnostic__slug",
        *(
            f"indicateur__{path}{name}"
            for path in ("sous_theme__", "")
            for name in ("theme__libelle", "theme__pilier__numero")
        ),
        "indicateur__sous_theme__libelle",
    )
    diagnostic = fields.Field(column_name="diagnostic", readonly=True)
    pilier = fields.Field(column_name="pilier", readonly=True)
    theme = fields.Field(column_name="theme", readonly=True)
    sous_theme = fields.Field(column_name="sous_theme", readonly=True)
    indicateur = fields.Field(
        attribute="indicateur", column_name="indicateur", widget=IndicateurLibelleWidget()
    )
    quartier = fields.Field(
        attribute="quartier", column_name="quartier", widget=ForeignKeyWidget(Quartier, "code")
    )

    class Meta(FlatResource.Meta):
        model = Mesure
        fields = (
            "diagnostic",
            "pilier",
            "theme",
            "sous_theme",
            "indicateur",
            "annee",
            "type_periode",
            "numero_periode",
            "quartier",
            "valeur",
            "texte",
            "source",
            "commentaire",
        )
        import_id_fields = ("indicateur", "annee", "type_periode", "numero_periode", "quartier")

    def natural_key(self, row):
        return {
            "indicateur": self.fields["indicateur"].clean(row),
            "annee": cell_text(row, "annee"),
            "type_periode": cell_text(row, "type_periode") or Mesure.TypePeriode.ANNEE,
            "numero_periode": cell_text(row, "numero_periode") or 0,
            "quartier": self.fields["quartier"].clean(row),
        }

    def dehydrate_diagnostic(self, mesure):
        return mesure.indicateur.diagnostic.slug

    def dehydrate_pilier(self, mesure):
        return mesure.indicateur.theme_effectif.pilier.numero

    def dehydrate_theme(self, mesure):
        return mesure.indicateur.theme_effectif.libelle

    def dehydrate_sous_theme(self, mesure):
        indicateur = mesure.indicateur
        return indicateur.sous_theme.libelle if indicateur.sous_theme_id else ""
