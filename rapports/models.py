"""The rapport annuel sur la politique de la ville of a contract, for one year.

A report goes through four states (`Rapport.Statut`): brouillon (written by the Équipe
ville, partners contribute their sections), en consultation (the draft has been sent to
the conseils municipaux and conseils citoyens, who have at least a month to give their
opinion), adopté (by the assembly, once every consulted body has answered or its deadline
has passed), publié (its public page and PDF). The rules of the states are in
`rapports.etats`; the consultation's in `rapports.consultation`.

An adopted report is never changed: its generated parts are frozen at adoption
(`contenu_fige`), and a correction starts a new version (`version`, `precedente`) that
goes through the same states.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from diagnostics.models import LIBELLE_MAX_LENGTH, Contrat, Membre, TimestampedModel
from diagnostics.text import validate_text

from . import sections
from .stockage import stockage_prive

ANNEE_MIN, ANNEE_MAX = 2015, 2100  # the décret dates from 2015


class Rapport(TimestampedModel):
    """One version of the annual report of a contract for one year."""

    class Statut(models.TextChoices):
        BROUILLON = "brouillon", "Brouillon"
        CONSULTATION = "consultation", "En consultation"
        ADOPTE = "adopte", "Adopté"
        PUBLIE = "publie", "Publié"

    EN_COURS = (Statut.BROUILLON, Statut.CONSULTATION)  # may still change
    ARRETES = (Statut.ADOPTE, Statut.PUBLIE)  # adopted: never changed again

    contrat = models.ForeignKey(
        Contrat, on_delete=models.PROTECT, related_name="rapports", verbose_name="contrat"
    )
    annee = models.PositiveSmallIntegerField(
        "année",
        validators=[MinValueValidator(ANNEE_MIN), MaxValueValidator(ANNEE_MAX)],
        help_text="L'année dont le rapport rend compte.",
    )
    version = models.PositiveSmallIntegerField("version", default=1)
    precedente = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="suivante",
        verbose_name="version précédente",
    )
    statut = models.CharField(
        "statut", max_length=20, choices=Statut.choices, default=Statut.BROUILLON
    )
    dsu = models.BooleanField(
        "une commune du contrat perçoit la DSU",
        default=False,
        help_text="Ajoute la section des actions financées par la dotation de solidarité urbaine.",
    )
    date_deliberation = models.DateField("date de la délibération", null=True, blank=True)
    instance_deliberante = models.CharField(
        "assemblée délibérante",
        max_length=200,
        blank=True,
        validators=[validate_text],
        help_text="Par exemple « Conseil communautaire de Montluçon Communauté ».",
    )
    adopte_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="adoption enregistrée par",
    )
    date_publication = models.DateTimeField("date de publication", null=True, blank=True)
    # The generated parts as they stood at adoption (`rapports.document`): an adopted
    # report says what the assembly adopted, whatever the diagnostic became since.
    contenu_fige = models.JSONField("contenu figé à l'adoption", null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "rapport annuel"
        verbose_name_plural = "rapports annuels"
        ordering = ["contrat", "-annee", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["contrat", "annee", "version"],
                name="%(app_label)s_%(class)s_unique_version",
                violation_error_message="Cette version du rapport existe déjà.",
            ),
            models.UniqueConstraint(
                fields=["contrat", "annee"],
                condition=Q(statut__in=["brouillon", "consultation"]),
                name="%(app_label)s_%(class)s_une_version_en_cours",
                violation_error_message=(
                    "Une version de ce rapport est déjà en cours : terminez-la avant d'en "
                    "commencer une autre."
                ),
            ),
            models.CheckConstraint(
                condition=Q(statut__in=["brouillon", "consultation", "adopte", "publie"]),
                name="%(app_label)s_%(class)s_statut_connu",
                violation_error_message="Ce statut n'existe pas.",
            ),
            models.CheckConstraint(
                condition=Q(annee__gte=ANNEE_MIN, annee__lte=ANNEE_MAX),
                name="%(app_label)s_%(class)s_annee_plausible",
                violation_error_message=(
                    f"L'année doit être comprise entre {ANNEE_MIN} et {ANNEE_MAX}."
                ),
            ),
            models.CheckConstraint(
                condition=Q(statut__in=["brouillon", "consultation"])
                | Q(date_deliberation__isnull=False, contenu_fige__isnull=False),
                name="%(app_label)s_%(class)s_adopte_avec_deliberation",
                violation_error_message=(
                    "Un rapport adopté a une date de délibération et son contenu figé."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(statut="publie") | Q(date_publication__isnull=False),
                name="%(app_label)s_%(class)s_publie_avec_date",
                violation_error_message="Un rapport publié a une date de publication.",
            ),
            models.CheckConstraint(
                condition=Q(version__gte=1),
                name="%(app_label)s_%(class)s_version_positive",
                violation_error_message="Une version commence à 1.",
            ),
        ]

    def __str__(self):
        suffixe = f" (version {self.version})" if self.version > 1 else ""
        return f"Rapport annuel {self.annee} — {self.contrat}{suffixe}"

    def get_absolute_url(self):
        return reverse(
            "rapports:rapport",
            kwargs={"slug": self.contrat.slug, "annee": self.annee, "version": self.version},
        )

    @property
    def titre(self):
        return f"Rapport annuel {self.annee} sur la politique de la ville"

    @property
    def en_cours(self):
        return self.statut in self.EN_COURS

    @property
    def arrete(self):
        return self.statut in self.ARRETES

    @property
    def est_publie(self):
        return self.statut == self.Statut.PUBLIE


class Section(TimestampedModel):
    """A section of a report: one of the décret's (`rapports.sections`), or a partner's
    contribution. Its text is markup already made safe (`rapports.balisage`)."""

    rapport = models.ForeignKey(
        Rapport, on_delete=models.CASCADE, related_name="sections", verbose_name="rapport"
    )
    cle = models.CharField("section", max_length=20, choices=sections.CHOIX)
    titre = models.CharField("titre", max_length=LIBELLE_MAX_LENGTH, validators=[validate_text])
    texte = models.TextField("texte", blank=True)
    ordre = models.PositiveSmallIntegerField("ordre", default=0)
    # A contribution: the partner asked (their membership of the contract) and their name
    # as the report prints it, kept if the membership ends.
    membre = models.ForeignKey(
        Membre,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contributions",
        verbose_name="partenaire sollicité",
    )
    auteur = models.CharField("contribution de", max_length=200, blank=True)
    demandee_le = models.DateTimeField("demandée le", null=True, blank=True)
    rendue_le = models.DateTimeField("rendue le", null=True, blank=True)
    # Incremented by each saved change: a form posted on an older revision is stale.
    revision = models.PositiveIntegerField("révision", default=0)
    modifie_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="modifiée par",
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "section"
        verbose_name_plural = "sections"
        ordering = ["rapport", "ordre", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["rapport", "cle"],
                condition=~Q(cle=sections.CONTRIBUTION),
                name="%(app_label)s_%(class)s_une_par_cle",
                violation_error_message="Ce rapport a déjà cette section.",
            ),
            models.CheckConstraint(
                condition=Q(cle__in=[cle for cle, _ in sections.CHOIX]),
                name="%(app_label)s_%(class)s_cle_connue",
                violation_error_message="Cette section n'existe pas.",
            ),
            models.CheckConstraint(
                condition=Q(cle=sections.CONTRIBUTION, demandee_le__isnull=False) & ~Q(auteur="")
                | ~Q(cle=sections.CONTRIBUTION) & Q(auteur="", membre__isnull=True),
                name="%(app_label)s_%(class)s_contribution_signee",
                violation_error_message=(
                    "Une contribution porte le nom de son auteur ; "
                    "une section du décret n'en a pas."
                ),
            ),
        ]

    def __str__(self):
        if self.est_contribution:
            return f"{self.titre} — contribution de {self.auteur}"
        return self.titre

    @property
    def est_contribution(self):
        return self.cle == sections.CONTRIBUTION

    @property
    def du_decret(self):
        return sections.PAR_CLE.get(self.cle)


class Instance(TimestampedModel):
    """A body consulted on the draft report (a conseil municipal, a conseil citoyen…):
    when it was sent the draft, its deadline, its opinion and the follow-up the assembly
    gives it. No answer by the deadline counts as a favourable opinion
    (`rapports.consultation`)."""

    class Nature(models.TextChoices):
        CONSEIL_MUNICIPAL = "conseil_municipal", "Conseil municipal"
        CONSEIL_CITOYEN = "conseil_citoyen", "Conseil citoyen"
        AUTRE = "autre", "Autre instance"

    class Avis(models.TextChoices):
        FAVORABLE = "favorable", "Favorable"
        RESERVES = "reserves", "Favorable avec réserves"
        DEFAVORABLE = "defavorable", "Défavorable"

    rapport = models.ForeignKey(
        Rapport, on_delete=models.CASCADE, related_name="instances", verbose_name="rapport"
    )
    nature = models.CharField("nature", max_length=20, choices=Nature.choices)
    nom = models.CharField(
        "nom",
        max_length=200,
        validators=[validate_text],
        help_text="Par exemple « Conseil citoyen de Fontbouillant ».",
    )
    date_envoi = models.DateField("projet envoyé le")
    date_limite = models.DateField("date limite de l'avis")
    avis = models.CharField("avis", max_length=20, choices=Avis.choices, blank=True)
    avis_date = models.DateField("avis rendu le", null=True, blank=True)
    avis_texte = models.TextField("texte de l'avis", blank=True, validators=[validate_text])
    fichier = models.FileField(
        "avis signé", storage=stockage_prive, upload_to="avis/%Y/", blank=True, max_length=255
    )
    fichier_nom = models.CharField("nom du fichier", max_length=255, blank=True)
    fichier_type = models.CharField("type du fichier", max_length=100, blank=True)
    suite_donnee = models.TextField(
        "suite donnée par l'assemblée", blank=True, validators=[validate_text]
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = "instance consultée"
        verbose_name_plural = "instances consultées"
        ordering = ["rapport", "nature", "nom"]
        constraints = [
            models.UniqueConstraint(
                fields=["rapport", "nom"],
                name="%(app_label)s_%(class)s_unique_nom",
                violation_error_message="Cette instance est déjà consultée sur ce rapport.",
            ),
            models.CheckConstraint(
                condition=Q(date_limite__gt=models.F("date_envoi")),
                name="%(app_label)s_%(class)s_limite_apres_envoi",
                violation_error_message="La date limite suit la date d'envoi.",
            ),
            models.CheckConstraint(
                condition=Q(nature__in=["conseil_municipal", "conseil_citoyen", "autre"]),
                name="%(app_label)s_%(class)s_nature_connue",
                violation_error_message="Cette nature d'instance n'existe pas.",
            ),
            models.CheckConstraint(
                condition=Q(avis="", avis_date__isnull=True)
                | Q(avis__in=["favorable", "reserves", "defavorable"], avis_date__isnull=False),
                name="%(app_label)s_%(class)s_avis_date",
                violation_error_message="Un avis rendu a une date, et une date un avis.",
            ),
            models.CheckConstraint(
                condition=Q(fichier="") | ~Q(avis=""),
                name="%(app_label)s_%(class)s_fichier_avec_avis",
                violation_error_message="Le fichier signé accompagne un avis.",
            ),
        ]

    def __str__(self):
        return f"{self.nom} — {self.rapport}"
