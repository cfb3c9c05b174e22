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

from ..models import INFORMATIONS, Indicateur, Mesure, TerritoireComparaison


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


class LieuWidget(ForeignKeyWidget):
    """The quartier column of a flat measure: a quartier's code, or else a comparison
    territory's code (empty: the whole territory)."""

    def __init__(self):
        super().__init__(Quartier, "code")

    def clean(self, value, row=None, **kwargs):
        code = "" if value is None else str(value).strip()
        if not code:
            return None
        found = Quartier.objects.filter(code=code).first()
        if found is None:
            found = TerritoireComparaison.objects.filter(code=code).first()
        if found is None:
            raise ValueError(
                f"« {code[:60]} » n'est le code d'aucun quartier ni d'aucun territoire de "
                "comparaison."
            )
        return found


class LieuField(fields.Field):
    """Sets the quartier or the comparison territory of a measure from one column."""

    def save(self, instance, row, is_m2m=False, **kwargs):
        lieu = self.clean(row, **kwargs)
        instance.quartier = lieu if isinstance(lieu, Quartier) else None
        instance.territoire = lieu if isinstance(lieu, TerritoireComparaison) else None


class MesureFlatResource(FlatResource):
    related = (
        "quartier",
        "territoire",
        "indicateur__diagnostic",
        "indicateur__sous_theme__theme__pilier",
        "indicateur__theme__pilier",
    )
    loaded = (
        "annee",
        "type_periode",
        "numero_periode",
        "nature",
        "valeur",
        "numerateur",
        "denominateur",
        "texte",
        "source",
        "commentaire",
        "quartier__code",
        "territoire__code",
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
    # A quartier's code, or a comparison territory's (`LieuWidget`).
    quartier = LieuField(attribute="quartier", column_name="quartier", widget=LieuWidget())

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
            "nature",
            "quartier",
            "valeur",
            "numerateur",
            "denominateur",
            "texte",
            "source",
            "commentaire",
        )
        import_id_fields = ("indicateur", "annee", "type_periode", "numero_periode", "quartier")

    def natural_key(self, row):
        lieu = self.fields["quartier"].clean(row)
        return {
            "indicateur": self.fields["indicateur"].clean(row),
            "nature": cell_text(row, "nature") or Mesure.Nature.VALEUR,
            "annee": cell_text(row, "annee"),
            "type_periode": cell_text(row, "type_periode") or Mesure.TypePeriode.ANNEE,
            "numero_periode": cell_text(row, "numero_periode") or 0,
            "quartier": lieu if isinstance(lieu, Quartier) else None,
            "territoire": lieu if isinstance(lieu, TerritoireComparaison) else None,
        }

    def dehydrate_quartier(self, mesure):
        lieu = mesure.quartier if mesure.quartier_id else mesure.territoire
        return lieu.code if lieu is not None else ""

    def dehydrate_diagnostic(self, mesure):
        return mesure.indicateur.diagnostic.slug

    def dehydrate_pilier(self, mesure):
        return mesure.indicateur.theme_effectif.pilier.numero

    def dehydrate_theme(self, mesure):
        return mesure.indicateur.theme_effectif.libelle

    def dehydrate_sous_theme(self, mesure):
        indicateur = mesure.indicateur
        return indicateur.sous_theme.libelle if indicateur.sous_theme_id else ""
