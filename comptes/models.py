from django.db import models
from django.utils import timezone


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
