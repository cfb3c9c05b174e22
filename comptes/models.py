from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords


class EchecConnexion(models.Model):
    """A failed sign-in: the account name as it was typed, and the address it came from.

    Counted by comptes.throttling to lock an account or an address; deleted when the
    account signs in, when an administrator unlocks, or after a month."""

    identifiant = models.CharField("identifiant saisi", max_length=150)
    adresse_ip = models.GenericIPAddressField("adresse IP", null=True, blank=True)
    date = models.DateTimeField("date", default=timezone.now)

    class Meta:
        verbose_name = "échec de connexion"
        verbose_name_plural = "échecs de connexion"
        ordering = ["-date"]
        indexes = [
            models.Index(fields=["identifiant", "date"], name="comptes_echec_identifiant"),
            models.Index(fields=["adresse_ip", "date"], name="comptes_echec_adresse"),
            models.Index(fields=["date"], name="comptes_echec_date"),
        ]

    def __str__(self):
        return f"{self.identifiant} depuis {self.adresse_ip or 'adresse inconnue'}"


class DemandeReinitialisation(models.Model):
    """A password reset request: the e-mail address typed (whether an account has it or
    not) and the address it came from; counted by comptes.throttling to limit them."""

    email = models.CharField("adresse électronique saisie", max_length=254)
    adresse_ip = models.GenericIPAddressField("adresse IP", null=True, blank=True)
    date = models.DateTimeField("date", default=timezone.now)

    class Meta:
        verbose_name = "demande de réinitialisation du mot de passe"
        verbose_name_plural = "demandes de réinitialisation du mot de passe"
        ordering = ["-date"]
        indexes = [
            models.Index(fields=["email", "date"], name="comptes_reinit_email"),
            models.Index(fields=["adresse_ip", "date"], name="comptes_reinit_adresse"),
            models.Index(fields=["date"], name="comptes_reinit_date"),
        ]

    def __str__(self):
        return f"{self.email} depuis {self.adresse_ip or 'adresse inconnue'}"


SIRET_LENGTH = 14


def validate_siret(value):
    """A SIRET is 14 digits (the INSEE's identifier of an establishment)."""
    if len(value) != SIRET_LENGTH or not value.isascii() or not value.isdigit():
        raise ValidationError("Un SIRET compte exactement 14 chiffres.", code="siret")


class NatureOrganisation(models.TextChoices):
    COMMUNE = "commune", "Commune"
    EPCI = "epci", "Intercommunalité (EPCI)"
    PREFECTURE = "prefecture", "Préfecture"
    DELEGUE_PREFET = "delegue_prefet", "Délégué du préfet"
    SERVICE_ETAT = "service_etat", "Service de l'État (DDETS, DDT…)"
    OPERATEUR = "operateur", "Opérateur (CAF, France Travail, ARS…)"
    BAILLEUR = "bailleur", "Bailleur social"
    ASSOCIATION = "association", "Association"
    CONSEIL_CITOYEN = "conseil_citoyen", "Conseil citoyen"
    AUTRE = "autre", "Autre"


class Organisation(models.Model):
    """Where an account works: a collectivité, a State service, an operator, a bailleur,
    an association or a conseil citoyen. Partners are given a role on a contract as a
    whole organisation (`diagnostics.Membre`)."""

    Nature = NatureOrganisation

    nom = models.CharField("nom", max_length=200)
    nature = models.CharField("nature", max_length=20, choices=Nature.choices)
    siret = models.CharField(
        "SIRET",
        max_length=SIRET_LENGTH,
        blank=True,
        validators=[validate_siret],
        help_text="14 chiffres ; laissé vide pour une organisation qui n'en a pas.",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "organisation"
        verbose_name_plural = "organisations"
        ordering = ["nom"]
        constraints = [
            models.UniqueConstraint(
                fields=["siret"],
                condition=~Q(siret=""),
                name="%(app_label)s_%(class)s_unique_siret",
                violation_error_message="Une organisation porte déjà ce SIRET.",
            ),
            models.CheckConstraint(
                condition=Q(nature__in=NatureOrganisation.values),
                name="%(app_label)s_%(class)s_nature_connue",
                violation_error_message="Cette nature d'organisation n'existe pas.",
            ),
        ]

    def __str__(self):
        return self.nom

    @classmethod
    def plateforme(cls):
        """The platform's own organisation: where an account created without one (by
        `createsuperuser`) belongs until an administrator says otherwise."""
        organisation, _ = cls.objects.get_or_create(
            nom=PLATFORM_ORGANISATION, siret="", defaults={"nature": cls.Nature.AUTRE}
        )
        return organisation


PLATFORM_ORGANISATION = "Administration de la plateforme"


class Profil(models.Model):
    """What the site knows of an account beyond Django's user: its organisation and, once
    it signed in with ProConnect, the identifier ProConnect gives it (`sub`)."""

    compte = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="profil",
        verbose_name="compte",
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="profils",
        verbose_name="organisation",
    )
    proconnect_sub = models.CharField(
        "identifiant ProConnect", max_length=255, blank=True, editable=False
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = "profil"
        verbose_name_plural = "profils"
        constraints = [
            models.UniqueConstraint(
                fields=["proconnect_sub"],
                condition=~Q(proconnect_sub=""),
                name="%(app_label)s_%(class)s_unique_proconnect_sub",
                violation_error_message="Un compte est déjà lié à cet identifiant ProConnect.",
            ),
        ]

    def __str__(self):
        return f"{self.compte} ({self.organisation})"
