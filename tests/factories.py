"""factory_boy factories: real objects in the real database."""

import datetime

import factory
from django.contrib.auth import get_user_model

from comptes.models import Organisation, Profil
from comptes.roles import Role
from diagnostics.models import (
    CelluleSource,
    Commune,
    Contrat,
    Diagnostic,
    Import,
    Membre,
    Pilier,
    Quartier,
    SousTheme,
    Theme,
)
from indicateurs.models import Indicateur, Mesure
from rapports import consultation
from rapports import sections as decret
from rapports.models import Instance, Rapport, Section

PASSWORD = "mot-de-passe-de-test"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"utilisateur{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def organisation(self, create, extracted, **kwargs):
        """UserFactory(organisation=org): the account's organisation (else the platform's)."""
        if create and extracted:
            Profil.objects.filter(compte=self).update(organisation=extracted)

    class Params:
        # UserFactory(role=Role.PARTENAIRE, contrat=diagnostic.contrat): that role on that
        # contract (on every edition of its diagnostic); a role is always held on one.
        role = None
        contrat = None

    membre = factory.Maybe(
        "role",
        yes_declaration=factory.RelatedFactory(
            "tests.factories.MembreFactory",
            factory_related_name="compte",
            role=factory.SelfAttribute("..role"),
            contrat=factory.SelfAttribute("..contrat"),
        ),
    )


class QuartierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Quartier
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"QN{90000 + n:05d}M")
    nom = factory.Sequence(lambda n: f"Quartier {n}")

    @factory.post_generation
    def communes(self, create, extracted, **kwargs):
        """`communes=[...]`: Commune objects or codes INSEE; Montluçon by default."""
        if not create:
            return
        wanted = ["03185"] if extracted is None else extracted
        for commune in wanted:
            if isinstance(commune, str):
                commune = CommuneFactory(code=commune)
            self.communes.add(commune)


class CommuneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Commune
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"{90000 + n:05d}")
    nom = factory.LazyAttribute(lambda c: COMMUNES_CONNUES.get(c.code, f"Commune {c.code}"))


COMMUNES_CONNUES = {"03185": "Montluçon", "03211": "Prémilhat", "03101": "Domérat"}


class ContratFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contrat

    nom = factory.Sequence(lambda n: f"Contrat de ville n° {n}")
    slug = factory.Sequence(lambda n: f"contrat-{n}")
    territoire = "Montluçon Communauté"
    annee_debut = 2024
    annee_fin = 2030


class DiagnosticFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Diagnostic

    titre = factory.Sequence(lambda n: f"Contrat de ville n° {n} — diagnostic 2024")
    slug = factory.Sequence(lambda n: f"diagnostic-{n}")
    territoire = "Montluçon Communauté"
    annee_debut = 2024
    annee_fin = 2030
    statut = Diagnostic.Statut.PUBLIE

    class Params:
        brouillon = factory.Trait(statut=Diagnostic.Statut.BROUILLON)
        public = factory.Trait(est_public=True)


class PilierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pilier

    diagnostic = factory.SubFactory(DiagnosticFactory)
    numero = factory.Sequence(lambda n: n + 1)
    libelle = factory.Sequence(lambda n: f"Pilier numéro {n}")


class ThemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Theme

    pilier = factory.SubFactory(PilierFactory)
    libelle = factory.Sequence(lambda n: f"Thème {n}")
    position = factory.Sequence(lambda n: n)


class SousThemeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SousTheme

    theme = factory.SubFactory(ThemeFactory)
    libelle = factory.Sequence(lambda n: f"Sous-thème {n}")
    position = factory.Sequence(lambda n: n)


class _ElementFactory(factory.django.DjangoModelFactory):
    """Items hang from a sous-thème; `au_niveau_du_theme=True` hangs them from a thème."""

    class Meta:
        abstract = True
        skip_postgeneration_save = True

    sous_theme = factory.SubFactory(SousThemeFactory)
    theme = None
    position = factory.Sequence(lambda n: n)

    class Params:
        au_niveau_du_theme = factory.Trait(sous_theme=None, theme=factory.SubFactory(ThemeFactory))

    @factory.post_generation
    def quartiers(self, create, extracted, **kwargs):
        if create and extracted:
            self.quartiers.set(extracted)


class DifficulteFactory(_ElementFactory):
    class Meta:
        model = "diagnostics.Difficulte"

    libelle = factory.Sequence(lambda n: f"Difficulté constatée numéro {n}")


class IndicateurFactory(_ElementFactory):
    class Meta:
        model = Indicateur

    libelle = factory.Sequence(lambda n: f"Nombre de participants à l'action {n}")


class MesureFactory(factory.django.DjangoModelFactory):
    """A value of an indicator for the whole territory: MesureFactory(annee=2024, valeur=12)."""

    class Meta:
        model = Mesure

    indicateur = factory.SubFactory(IndicateurFactory)
    annee = 2024


class ImportFactory(factory.django.DjangoModelFactory):
    """An import of a source table (provenance), without any content."""

    class Meta:
        model = Import

    diagnostic = factory.SubFactory(DiagnosticFactory)
    nom_fichier = "diagnostic-montlucon.tsv"
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    taille = 2048


class CelluleSourceFactory(factory.django.DjangoModelFactory):
    """A cell of an imported table: CelluleSourceFactory(import_source=..., ligne=4)."""

    class Meta:
        model = CelluleSource

    import_source = factory.SubFactory(ImportFactory)
    ligne = factory.Sequence(lambda n: n + 2)
    colonne = CelluleSource.Colonne.DIFFICULTES
    texte = "- Isolement des familles. - Peu d'accès aux loisirs."


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    nom = factory.Sequence(lambda n: f"Organisation n° {n}")
    nature = Organisation.Nature.COMMUNE


class MembreFactory(factory.django.DjangoModelFactory):
    """A role on a contract: MembreFactory(contrat=…, compte=user, role=Role.EQUIPE_VILLE)."""

    class Meta:
        model = Membre

    role = Role.PARTENAIRE

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        if kwargs.get("contrat") is None:
            raise TypeError("Un rôle porte sur un contrat : contrat=… est requis.")
        kwargs["role"] = Role(kwargs["role"]).value
        return super()._create(model_class, *args, **kwargs)


class RapportFactory(factory.django.DjangoModelFactory):
    """An annual report (brouillon) with the décret's sections, as `etats.commencer`
    creates it."""

    class Meta:
        model = Rapport
        skip_postgeneration_save = True

    contrat = factory.SubFactory(ContratFactory)
    annee = 2025

    @factory.post_generation
    def sections(self, create, extracted, **kwargs):
        if create:
            Section.objects.bulk_create(
                Section(rapport=self, cle=s.cle, titre=s.titre, ordre=i)
                for i, s in enumerate(decret.SECTIONS)
            )


class InstanceFactory(factory.django.DjangoModelFactory):
    """A body consulted on a report, sent the draft on 1 September 2026."""

    class Meta:
        model = Instance

    rapport = factory.SubFactory(RapportFactory)
    nature = "conseil_citoyen"
    nom = factory.Sequence(lambda n: f"Conseil citoyen n° {n}")
    date_envoi = datetime.date(2026, 9, 1)
    date_limite = factory.LazyAttribute(lambda o: consultation.date_limite_minimale(o.date_envoi))
