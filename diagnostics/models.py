"""The diagnostic's hierarchy: Diagnostic > Pilier > Theme > SousTheme, its items and provenance.

A `Contrat` (contrat de ville) groups the editions of its diagnostic: each `Diagnostic` row
is one edition ("Diagnostic initial — mars 2024", "Révision à mi-parcours — 2027"), a whole
hierarchy of its own. An edition started from another copies every level and item; each
copy keeps the item it came from (`origine`) and its lineage (`lignee`, the same in every
edition), by which two editions are compared (`diagnostics.editions`).

Items (Difficulte here, Indicateur in the `indicateurs` app) hang from a SousTheme, or
from a Theme directly when their source row had no sous-thème.

Every level and item carries its diagnostic (`InDiagnostic`): set from its parent when it
is created, never changed afterwards (a move stays within the diagnostic), and held equal
to its parent's by the database on PostgreSQL (composite foreign keys, migration 0008).
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from comptes.roles import Role

from .text import ITEM_MAX_LENGTH, collapse_whitespace, fingerprint, normalize_key, validate_text

LIBELLE_MAX_LENGTH = 255


class TimestampedModel(models.Model):
    created_at = models.DateTimeField("date de création", auto_now_add=True)
    updated_at = models.DateTimeField("date de modification", auto_now=True)

    class Meta:
        abstract = True


class VersionedModel(TimestampedModel):
    """Optimistic locking: `version` grows by one at each save made through the site's forms,
    checked in the UPDATE itself so that a save made on a stale version is refused."""

    version = models.PositiveIntegerField("version", default=1, editable=False)

    class Meta:
        abstract = True


class HistoryLinks(models.Model):
    """The columns of the history tables of a diagnostic's contents that say what wrote a
    row, beside its human-readable reason (`history_change_reason`): the import that wrote
    it, the import whose undo wrote it, the deletion it belongs to (what is deleted
    together shares one `Suppression`). Like simple_history's own references, they keep
    their numbers when what they point to is deleted (no database constraint).

    `import_source` is indexed (an import's page and its undo read its rows);
    `suppression` has a partial index, on the rows that have one (migration 0009), so that
    the rows an import writes cost no index for it; `annulation_de` is only displayed."""

    import_source = models.ForeignKey(
        "diagnostics.Import",
        verbose_name="écrite par l'import",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    annulation_de = models.ForeignKey(
        "diagnostics.Import",
        verbose_name="écrite par l'annulation de l'import",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
    )
    suppression = models.ForeignKey(
        "diagnostics.Suppression",
        verbose_name="supprimée avec",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
    )
    # The user action that wrote the row (`diagnostics.history.actions`): every row written
    # by one request or one operation shares it, so that the "Dernières modifications" page
    # shows one line per action (a move, not each renumbered sibling). Rows written before
    # it existed have none. Not indexed: only read with the rows of a diagnostic.
    action = models.UUIDField("action", null=True, blank=True, editable=False)

    class Meta:
        abstract = True


LINKS = ("import_source", "annulation_de", "suppression")


def link_history(instance, **links):
    """Ask the next history row written for `instance` (its save or its deletion) to carry
    these links (`import_source`, `annulation_de`, `suppression`: instances or None)."""
    instance._history_links = {
        f"{name}_id": getattr(value, "pk", value) for name, value in links.items()
    }


def copy_history_links(sender, instance, history_instance, **kwargs):
    """Receiver of simple_history's `pre_create_historical_record` (connected by the app):
    the links asked by `link_history`, for this one history row."""
    for attname, value in instance.__dict__.pop("_history_links", {}).items():
        setattr(history_instance, attname, value)


class DiagnosticQuerySet(models.QuerySet):
    def publies(self):
        """The editions partners read: published ones and frozen ones (a frozen edition
        was published before it was archived)."""
        return self.filter(statut__in=Diagnostic.STATUTS_PUBLICS)


# The codes of the QPV référentiel (read by `diagnostics.quartiers.referentiel` too).
COMMUNE_CODE = r"^(\d{5}|2[AB]\d{3})$"  # code INSEE: 03185, 2A004 in Corsica
QPV_CODE = r"^QN\d{5}[A-Z]$"
REGION_CODE = r"^\d{2,3}$"


class CommuneManager(models.Manager):
    def get_by_natural_key(self, code):
        return self.get(code=code)


class Commune(models.Model):
    """A commune, by its code INSEE (code officiel géographique), as the QPV référentiel
    names the communes a quartier covers; its name when the référentiel gives it."""

    code = models.CharField(
        "code INSEE",
        max_length=5,
        validators=[
            RegexValidator(COMMUNE_CODE, "Le code INSEE d'une commune a cinq caractères : 03185.")
        ],
    )
    nom = models.CharField("nom", max_length=200, blank=True, validators=[validate_text])

    objects = CommuneManager()

    class Meta:
        verbose_name = "commune"
        verbose_name_plural = "communes"
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["code"],
                name="%(app_label)s_%(class)s_unique_code",
                violation_error_message="Une commune porte déjà ce code INSEE.",
            ),
        ]

    def __str__(self):
        return f"{self.nom} ({self.code})" if self.nom else self.code

    def natural_key(self):
        return (self.code,)


class QuartierManager(models.Manager):
    def get_by_natural_key(self, code):
        return self.get(code=code)


# The régions by their code INSEE (code officiel géographique, since 2016), as the QPV
# référentiel gives them (`insee_reg`).
REGIONS = {
    "01": "Guadeloupe",
    "02": "Martinique",
    "03": "Guyane",
    "04": "La Réunion",
    "06": "Mayotte",
    "11": "Île-de-France",
    "24": "Centre-Val de Loire",
    "27": "Bourgogne-Franche-Comté",
    "28": "Normandie",
    "32": "Hauts-de-France",
    "44": "Grand Est",
    "52": "Pays de la Loire",
    "53": "Bretagne",
    "75": "Nouvelle-Aquitaine",
    "76": "Occitanie",
    "84": "Auvergne-Rhône-Alpes",
    "93": "Provence-Alpes-Côte d'Azur",
    "94": "Corse",
}


class Quartier(TimestampedModel):
    """A QPV (quartier prioritaire de la politique de la ville), as listed by the State in
    its référentiel (`diagnostics.quartiers.referentiel`): its code, name, communes and
    outline."""

    code = models.CharField(
        "code QPV",
        max_length=12,
        validators=[RegexValidator(QPV_CODE, "Le code QPV a la forme QN00304M.")],
        help_text="Code national du quartier prioritaire, par exemple QN00304M.",
    )
    nom = models.CharField("nom", max_length=200, validators=[validate_text])
    communes = models.ManyToManyField(
        Commune,
        verbose_name="communes",
        related_name="quartiers",
        blank=True,
        help_text="Communes couvertes par le quartier (un quartier peut en couvrir plusieurs).",
    )
    region = models.CharField(
        "code région",
        max_length=3,
        blank=True,
        validators=[RegexValidator(REGION_CODE, "Le code région INSEE a deux chiffres : 84.")],
    )
    # The outline: a GeoJSON MultiPolygon in WGS 84 (longitude, latitude), simplified for
    # drawing at city scale (`diagnostics.quartiers.geometrie`); None when the référentiel
    # was loaded without outlines (a CSV).
    contour = models.JSONField("contour", null=True, blank=True, editable=False)
    contour_demonstration = models.BooleanField(
        "tracé de démonstration",
        default=False,
        help_text="Contour dessiné pour la démonstration : ce n'est pas le tracé officiel.",
    )

    objects = QuartierManager()

    class Meta:
        verbose_name = "quartier prioritaire"
        verbose_name_plural = "quartiers prioritaires"
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["code"],
                name="%(app_label)s_%(class)s_unique_code",
                violation_error_message="Un quartier prioritaire porte déjà ce code.",
            ),
            models.CheckConstraint(
                condition=Q(code__regex=QPV_CODE),
                name="%(app_label)s_%(class)s_code_qpv",
                violation_error_message="Le code QPV a la forme QN00304M.",
            ),
        ]

    def __str__(self):
        return f"{self.nom} ({self.code})"

    def natural_key(self):
        return (self.code,)

    @property
    def region_nom(self):
        """ "Auvergne-Rhône-Alpes (84)", or the code alone when it is not a région's."""
        nom = REGIONS.get(self.region)
        return f"{nom} ({self.region})" if nom else self.region


class ImportReferentiel(models.Model):
    """One load of the QPV référentiel (`diagnostics.quartiers.referentiel`): what it
    created, changed, left unchanged, and left aside (quartiers absent from the file)."""

    date = models.DateTimeField("date", auto_now_add=True)
    fichier = models.CharField("fichier", max_length=255)
    importe_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="importé par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    crees = models.PositiveIntegerField("quartiers créés", default=0)
    modifies = models.PositiveIntegerField("quartiers modifiés", default=0)
    inchanges = models.PositiveIntegerField("quartiers inchangés", default=0)
    laisses = models.PositiveIntegerField("quartiers absents du fichier", default=0)
    avec_contours = models.BooleanField("avec contours", default=True)
    force = models.BooleanField("forcé", default=False)

    class Meta:
        verbose_name = "import du référentiel des quartiers"
        verbose_name_plural = "imports du référentiel des quartiers"
        ordering = ["-date", "-pk"]

    def __str__(self):
        return f"Référentiel « {self.fichier} » du {timezone.localtime(self.date):%d/%m/%Y %H:%M}"


def free_slug(model, wanted):
    """`wanted`, or `wanted-2`, `wanted-3`… : the first slug no row of `model` holds."""
    taken = set(model.objects.filter(slug__startswith=wanted).values_list("slug", flat=True))
    slug, n = wanted, 1
    while slug in taken:
        n += 1
        slug = f"{wanted}-{n}"
    return slug


class ContratManager(models.Manager):
    def get_by_natural_key(self, slug):
        return self.get(slug=slug)


class Contrat(TimestampedModel):
    """A contrat de ville: its territory, signatories and period; its diagnostic's editions."""

    nom = models.CharField("nom", max_length=LIBELLE_MAX_LENGTH, validators=[validate_text])
    slug = models.SlugField("identifiant court", max_length=100)
    territoire = models.CharField(
        "territoire",
        max_length=200,
        validators=[validate_text],
        help_text="Commune ou intercommunalité (EPCI) signataire, ex. Montluçon Communauté.",
    )
    signataires = models.TextField(
        "signataires",
        blank=True,
        validators=[validate_text],
        help_text="Les signataires du contrat, tels qu'ils figurent sur le document signé.",
    )
    annee_debut = models.PositiveSmallIntegerField("année de début", default=2024)
    annee_fin = models.PositiveSmallIntegerField("année de fin", default=2030)

    objects = ContratManager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "contrat de ville"
        verbose_name_plural = "contrats de ville"
        ordering = ["nom"]
        constraints = [
            models.UniqueConstraint(
                fields=["slug"],
                name="%(app_label)s_%(class)s_unique_slug",
                violation_error_message="Un contrat de ville porte déjà cet identifiant court.",
            ),
            models.CheckConstraint(
                condition=Q(annee_fin__gte=models.F("annee_debut")),
                name="%(app_label)s_%(class)s_periode_ordonnee",
                violation_error_message="L'année de fin précède l'année de début.",
            ),
        ]

    def __str__(self):
        return self.nom

    def get_absolute_url(self):
        return reverse("diagnostics:contrat", kwargs={"slug": self.slug})

    def natural_key(self):
        return (self.slug,)

    @property
    def periode(self):
        return f"{self.annee_debut}–{self.annee_fin}"


class Diagnostic(TimestampedModel):
    """One edition of a contract's diagnostic (see the module's docstring)."""

    class Statut(models.TextChoices):
        BROUILLON = "brouillon", "Brouillon"
        PUBLIE = "publie", "Publiée"
        FIGE = "fige", "Figée"

    STATUTS_PUBLICS = (Statut.PUBLIE, Statut.FIGE)

    contrat = models.ForeignKey(
        Contrat,
        verbose_name="contrat de ville",
        on_delete=models.PROTECT,
        related_name="editions",
        blank=True,  # a diagnostic created alone starts its own contract (`save`)
    )
    nom_edition = models.CharField(
        "nom de l'édition",
        max_length=200,
        default="Diagnostic initial",
        validators=[validate_text],
        help_text=(
            "Par exemple « Diagnostic initial — mars 2024 » ou « Révision à mi-parcours — 2027 »."
        ),
    )
    date_edition = models.DateField("date de l'édition", default=timezone.localdate)
    precedente = models.ForeignKey(
        "self",
        verbose_name="édition précédente",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="suivantes",
        help_text="L'édition dont celle-ci a été copiée.",
    )

    titre = models.CharField("titre", max_length=LIBELLE_MAX_LENGTH, validators=[validate_text])
    slug = models.SlugField("identifiant court", max_length=100)
    territoire = models.CharField(
        "territoire",
        max_length=200,
        validators=[validate_text],
        help_text="Commune ou intercommunalité (EPCI) signataire, ex. Montluçon Communauté.",
    )
    annee_debut = models.PositiveSmallIntegerField("année de début")
    annee_fin = models.PositiveSmallIntegerField("année de fin")
    statut = models.CharField(
        "statut", max_length=20, choices=Statut.choices, default=Statut.BROUILLON
    )
    est_public = models.BooleanField(
        "consultable sans compte",
        default=False,
        help_text="Un diagnostic publié et public est lisible sans se connecter.",
    )
    quartiers = models.ManyToManyField(
        Quartier,
        verbose_name="quartiers prioritaires concernés",
        related_name="diagnostics",
        blank=True,
    )

    objects = DiagnosticQuerySet.as_manager()
    history = HistoricalRecords(bases=[HistoryLinks])

    class Meta:
        verbose_name = "diagnostic"
        verbose_name_plural = "diagnostics"
        ordering = ["-annee_debut", "titre"]
        constraints = [
            models.UniqueConstraint(
                fields=["slug"],
                name="%(app_label)s_%(class)s_unique_slug",
                violation_error_message="Un diagnostic porte déjà cet identifiant court.",
            ),
            models.CheckConstraint(
                condition=Q(annee_fin__gte=models.F("annee_debut")),
                name="%(app_label)s_%(class)s_periode_ordonnee",
                violation_error_message="L'année de fin précède l'année de début.",
            ),
            models.UniqueConstraint(
                fields=["contrat"],
                condition=Q(statut="brouillon"),
                name="%(app_label)s_%(class)s_un_brouillon_par_contrat",
                violation_error_message=(
                    "Ce contrat a déjà une édition en brouillon : publiez-la ou supprimez-la "
                    "avant d'en commencer une autre."
                ),
            ),
            models.UniqueConstraint(
                fields=["contrat", "nom_edition"],
                name="%(app_label)s_%(class)s_unique_contrat_nom_edition",
                violation_error_message="Ce contrat a déjà une édition portant ce nom.",
            ),
        ]

    def __str__(self):
        return self.titre

    def save(self, *args, **kwargs):
        if self.contrat_id is None:
            self.contrat = Contrat.objects.create(
                nom=self.titre,
                slug=free_slug(Contrat, self.slug),
                territoire=self.territoire,
                annee_debut=self.annee_debut,
                annee_fin=self.annee_fin,
            )
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("diagnostics:diagnostic", kwargs={"slug": self.slug})

    @property
    def est_figee(self):
        return self.statut == self.Statut.FIGE

    @property
    def est_brouillon(self):
        return self.statut == self.Statut.BROUILLON

    @property
    def periode(self):
        return f"{self.annee_debut}–{self.annee_fin}"


class Import(models.Model):
    """One import of a file into a diagnostic: the provenance of what it created or changed.

    Rows of the change history written by an import point to it (`HistoryLinks`), which is
    how an import is listed and undone; their reason names its file
    (`import_change_reason`).
    """

    class Nature(models.TextChoices):
        DIAGNOSTIC = "diagnostic", "Tableau du diagnostic"
        MESURES = "mesures", "Valeurs d'indicateurs"

    nature = models.CharField(
        "nature", max_length=20, choices=Nature.choices, default=Nature.DIAGNOSTIC
    )
    diagnostic = models.ForeignKey(
        Diagnostic, verbose_name="diagnostic", on_delete=models.CASCADE, related_name="imports"
    )
    nom_fichier = models.CharField("nom du fichier", max_length=255)
    sha256 = models.CharField("empreinte SHA-256", max_length=64)
    taille = models.PositiveBigIntegerField("taille (octets)")
    importe_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="importé par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField("date de l'import", auto_now_add=True)
    compte_rendu = models.JSONField(
        "compte rendu",
        default=dict,
        blank=True,
        help_text="Nombres créés et inchangés par niveau, avertissements.",
    )
    annule_le = models.DateTimeField("annulé le", null=True, blank=True)
    annule_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="annulé par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = "import"
        verbose_name_plural = "imports"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["diagnostic", "sha256"], name="diag_import_diag_sha_idx")]

    def __str__(self):
        return f"{self.nom_fichier} ({self.created_at:%d/%m/%Y %H:%M})"


REASON_MAX_LENGTH = 100  # simple-history's history_change_reason


def reason_text(text):
    """A history change reason within the column's length."""
    text = collapse_whitespace(text or "")
    return text if len(text) <= REASON_MAX_LENGTH else f"{text[: REASON_MAX_LENGTH - 1]}…"


def import_change_reason(import_record):
    """The human-readable reason of every history row an import writes."""
    return reason_text(f"Import du fichier « {import_record.nom_fichier} »")


def undo_change_reason(import_record):
    """The human-readable reason of every history row the undo of an import writes."""
    return reason_text(f"Annulation de l'import du fichier « {import_record.nom_fichier} »")


class Suppression(models.Model):
    """One deletion made by a person: the object deleted and everything deleted with it
    (the sous-thèmes and items of a thème, the values of an indicator…) point to it from
    their history rows, so that restoring the object brings them back."""

    diagnostic = models.ForeignKey(
        Diagnostic, verbose_name="diagnostic", on_delete=models.CASCADE, related_name="+"
    )
    date = models.DateTimeField("date", default=timezone.now)
    par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="par",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = "suppression"
        verbose_name_plural = "suppressions"
        ordering = ["-date", "-id"]

    def __str__(self):
        return f"Suppression du {timezone.localtime(self.date):%d/%m/%Y à %H:%M}"


class ImportEnAttente(models.Model):
    """A file uploaded on the import screens, kept between its preview and its confirmation.

    Kept in the database (not in a folder of one server), so that any application server
    answers the confirmation. Only its uploader reaches it, by its token; it expires after
    IMPORT_PENDING_TTL seconds. See `diagnostics.imports.upload`.
    """

    token = models.CharField("jeton", max_length=64, editable=False)
    depose_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="déposé par",
        on_delete=models.CASCADE,
        related_name="+",
    )
    nature = models.CharField("nature", max_length=20, choices=Import.Nature.choices)
    diagnostic = models.ForeignKey(
        Diagnostic,
        verbose_name="diagnostic",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="Vide : le diagnostic est créé par l'import (voir « nouveau diagnostic »).",
    )
    nouveau_diagnostic = models.JSONField(
        "nouveau diagnostic",
        default=dict,
        blank=True,
        help_text="Titre, identifiant court, territoire et années du diagnostic à créer.",
    )
    nom_fichier = models.CharField("nom du fichier", max_length=255)
    contenu = models.BinaryField("contenu du fichier")
    sha256 = models.CharField("empreinte SHA-256", max_length=64)
    taille = models.PositiveBigIntegerField("taille (octets)")
    created_at = models.DateTimeField("déposé le", auto_now_add=True)
    expire_le = models.DateTimeField("expire le")
    confirme_le = models.DateTimeField("confirmé le", null=True, blank=True)
    import_enregistre = models.ForeignKey(
        Import,
        verbose_name="import enregistré",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = "import en attente de confirmation"
        verbose_name_plural = "imports en attente de confirmation"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["token"],
                name="%(app_label)s_%(class)s_unique_token",
                violation_error_message="Ce jeton est déjà utilisé.",
            ),
        ]
        indexes = [models.Index(fields=["expire_le"], name="diag_attente_expire_idx")]

    def __str__(self):
        return f"{self.nom_fichier} ({self.created_at:%d/%m/%Y %H:%M})"


class CelluleSource(models.Model):
    """The original text of one cell of an imported table, with its line number."""

    class Colonne(models.TextChoices):
        PILIER = "pilier", "Pilier"
        THEME = "theme", "Thème"
        SOUS_THEME = "sous_theme", "Sous-thème"
        DIFFICULTES = "difficultes", "Difficultés prégnantes"
        INDICATEURS = "indicateurs", "Indicateur"

    import_source = models.ForeignKey(
        Import, verbose_name="import", on_delete=models.CASCADE, related_name="cellules"
    )
    ligne = models.PositiveIntegerField("ligne")
    colonne = models.CharField("colonne", max_length=20, choices=Colonne.choices)
    texte = models.TextField("texte d'origine")

    class Meta:
        verbose_name = "cellule source"
        verbose_name_plural = "cellules sources"
        ordering = ["import_source", "ligne", "colonne"]
        constraints = [
            models.UniqueConstraint(
                fields=["import_source", "ligne", "colonne"],
                name="%(app_label)s_%(class)s_unique_import_ligne_colonne",
                violation_error_message="Cette cellule de ce fichier est déjà enregistrée.",
            ),
        ]

    def __str__(self):
        return f"{self.import_source.nom_fichier}, ligne {self.ligne}, {self.get_colonne_display()}"


class InDiagnostic(models.Model):
    """What belongs to one diagnostic below its piliers: a thème, a sous-thème, an item.

    `diagnostic` is the diagnostic of its parent (`parent_in_diagnostic()`), set on the
    first save when it is not given. It lets every page, list, filter and export find a
    diagnostic's contents, and the access rule check them, on one indexed column.
    """

    diagnostic = models.ForeignKey(
        "diagnostics.Diagnostic",
        verbose_name="diagnostic",
        on_delete=models.CASCADE,
        editable=False,
        related_name="%(class)ss",
    )

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.diagnostic_id is None:
            self.diagnostic_id = self.diagnostic_of_parent()
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        parent_diagnostic = self.diagnostic_of_parent()
        if self.diagnostic_id is not None and parent_diagnostic not in (None, self.diagnostic_id):
            raise ValidationError(
                "Cet emplacement appartient à un autre diagnostic : un élément reste dans "
                "son diagnostic."
            )

    def parent_in_diagnostic(self):
        """The object above this one, whose diagnostic this one shares (None if unset)."""
        raise NotImplementedError

    def diagnostic_of_parent(self):
        parent = self.parent_in_diagnostic()
        return None if parent is None else parent.diagnostic_id


def unique_id_and_diagnostic():
    """On a parent (pilier, thème, sous-thème): the pair (id, diagnostic) its children's
    composite foreign keys refer to, so that PostgreSQL holds a child's diagnostic equal
    to its parent's (migration 0008)."""
    return models.UniqueConstraint(
        fields=["id", "diagnostic"],
        name="%(app_label)s_%(class)s_unique_id_diagnostic",
        violation_error_message="Cette paire (numéro, diagnostic) existe déjà.",
    )


def lignee_of_pk(pk):
    """The lineage given to a row that existed before editions (migration 0010): derived
    from its number, so that its history rows get the same; never a uuid4 (its version
    bits are zero)."""
    return uuid.UUID(int=pk)


class Lineage(models.Model):
    """What an item of an edition keeps of the editions before it.

    `lignee` is the same for an item and every copy of it, in every edition of its
    contract (a new item starts a lineage): two editions are compared by it, never by
    text. `origine` is the item it was copied from, in the previous edition.
    """

    lignee = models.UUIDField("lignée", default=uuid.uuid4, editable=False, db_index=True)
    origine = models.ForeignKey(
        "self",
        verbose_name="copié de",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    class Meta:
        abstract = True


class NamedNode(Lineage, VersionedModel):
    """A level of the hierarchy: a libellé, unique within its parent (see `normalize_key`)."""

    libelle = models.CharField("libellé", max_length=LIBELLE_MAX_LENGTH, validators=[validate_text])
    cle = models.CharField("clé de comparaison", max_length=LIBELLE_MAX_LENGTH, editable=False)
    source = models.ForeignKey(
        CelluleSource,
        verbose_name="source",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    history = HistoricalRecords(inherit=True, bases=[HistoryLinks])

    class Meta:
        abstract = True

    def __str__(self):
        return self.libelle

    def save(self, *args, **kwargs):
        self.libelle = collapse_whitespace(self.libelle)
        self.cle = normalize_key(self.libelle)
        if kwargs.get("update_fields") is not None and "libelle" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "cle"}
        super().save(*args, **kwargs)


def unique_name_within(parent):
    return models.UniqueConstraint(
        fields=[parent, "cle"],
        name=f"%(app_label)s_%(class)s_unique_{parent}_libelle",
        violation_error_message="Ce libellé existe déjà au même niveau (casse et accents ignorés).",
    )


class Pilier(NamedNode):
    diagnostic = models.ForeignKey(
        Diagnostic, verbose_name="diagnostic", on_delete=models.CASCADE, related_name="piliers"
    )
    numero = models.PositiveSmallIntegerField("numéro")

    class Meta:
        verbose_name = "pilier"
        verbose_name_plural = "piliers"
        ordering = ["diagnostic", "numero"]
        constraints = [
            models.UniqueConstraint(
                fields=["diagnostic", "numero"],
                name="%(app_label)s_%(class)s_unique_diagnostic_numero",
                violation_error_message="Ce diagnostic a déjà un pilier portant ce numéro.",
            ),
            unique_name_within("diagnostic"),
            unique_id_and_diagnostic(),
        ]

    def __str__(self):
        return f"{self.numero}. {self.libelle}"

    def get_absolute_url(self):
        return reverse(
            "diagnostics:pilier", kwargs={"slug": self.diagnostic.slug, "numero": self.numero}
        )


class Theme(InDiagnostic, NamedNode):
    pilier = models.ForeignKey(
        Pilier, verbose_name="pilier", on_delete=models.CASCADE, related_name="themes"
    )
    position = models.PositiveIntegerField("position", default=0)

    class Meta:
        verbose_name = "thème"
        verbose_name_plural = "thèmes"
        ordering = ["pilier", "position", "id"]
        constraints = [unique_name_within("pilier"), unique_id_and_diagnostic()]

    def parent_in_diagnostic(self):
        return self.pilier if self.pilier_id else None


class SousTheme(InDiagnostic, NamedNode):
    theme = models.ForeignKey(
        Theme, verbose_name="thème", on_delete=models.CASCADE, related_name="sous_themes"
    )
    position = models.PositiveIntegerField("position", default=0)

    class Meta:
        verbose_name = "sous-thème"
        verbose_name_plural = "sous-thèmes"
        ordering = ["theme", "position", "id"]
        constraints = [unique_name_within("theme"), unique_id_and_diagnostic()]

    def get_absolute_url(self):
        return reverse(
            "diagnostics:sous_theme", kwargs={"slug": self.diagnostic.slug, "pk": self.pk}
        )

    def parent_in_diagnostic(self):
        return self.theme if self.theme_id else None


class ElementQuerySet(models.QuerySet):
    """Items by the place they hang from: a sous-thème, or a thème directly.

    Each filter starts from the items' own indexed `diagnostic` column: within a pilier or
    a thème, the condition on either parent (an OR over joins to the levels above) is
    then tested on that diagnostic's items only.
    """

    def du_diagnostic(self, diagnostic):
        """The items of a diagnostic (an instance or its id)."""
        return self.filter(diagnostic=diagnostic)

    def des_diagnostics(self, diagnostics):
        """The items of any of these diagnostics (a queryset, e.g. `visible_diagnostics`)."""
        return self.filter(diagnostic__in=diagnostics.order_by().values("pk"))

    def du_pilier(self, pilier):
        return self.filter(diagnostic=pilier.diagnostic_id).filter(
            Q(theme__pilier=pilier.pk) | Q(sous_theme__theme__pilier=pilier.pk)
        )

    def du_theme(self, theme):
        """The items of a thème, at its level or in its sous-thèmes."""
        return self.filter(diagnostic=theme.diagnostic_id).filter(
            Q(theme=theme.pk) | Q(sous_theme__theme=theme.pk)
        )


def element_constraints():
    """Named constraints shared by every kind of item (called in each Meta)."""
    return [
        models.CheckConstraint(
            condition=(
                Q(theme__isnull=False, sous_theme__isnull=True)
                | Q(theme__isnull=True, sous_theme__isnull=False)
            ),
            name="%(app_label)s_%(class)s_un_seul_parent",
            violation_error_message=(
                "Un élément est rattaché soit à un sous-thème, soit directement à un thème."
            ),
        ),
        models.UniqueConstraint(
            fields=["sous_theme", "cle"],
            condition=Q(sous_theme__isnull=False),
            name="%(app_label)s_%(class)s_unique_sous_theme_libelle",
            violation_error_message="Ce libellé existe déjà dans ce sous-thème.",
        ),
        models.UniqueConstraint(
            fields=["theme", "cle"],
            condition=Q(theme__isnull=False),
            name="%(app_label)s_%(class)s_unique_theme_libelle",
            violation_error_message="Ce libellé existe déjà au niveau de ce thème.",
        ),
    ]


class Element(InDiagnostic, Lineage, VersionedModel):
    """An item of a diagnostic line (a difficulté or an indicateur).

    It belongs to exactly one parent: a sous-thème, or a thème directly when the
    source row had no sous-thème (a check constraint enforces "exactly one").
    """

    theme = models.ForeignKey(
        Theme,
        verbose_name="thème (niveau du thème)",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="%(class)ss",
    )
    sous_theme = models.ForeignKey(
        SousTheme,
        verbose_name="sous-thème",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="%(class)ss",
    )
    # A TextField's max_length is the forms' limit (and their validator); the model's
    # validators give the same limit to full_clean (the admin).
    libelle = models.TextField(
        "libellé",
        max_length=ITEM_MAX_LENGTH,
        validators=[MaxLengthValidator(ITEM_MAX_LENGTH), validate_text],
    )
    cle = models.CharField("empreinte du libellé", max_length=64, editable=False)
    position = models.PositiveIntegerField("position", default=0)
    quartiers = models.ManyToManyField(
        Quartier, verbose_name="quartiers concernés", blank=True, related_name="%(class)ss"
    )
    source = models.ForeignKey(
        CelluleSource,
        verbose_name="cellule source",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="%(class)ss",
    )

    objects = ElementQuerySet.as_manager()
    history = HistoricalRecords(inherit=True, m2m_fields=["quartiers"], bases=[HistoryLinks])

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def __str__(self):
        return self.libelle if len(self.libelle) <= 80 else f"{self.libelle[:79]}…"

    def save(self, *args, **kwargs):
        self.libelle = self.libelle.strip()
        self.cle = fingerprint(self.libelle)
        if kwargs.get("update_fields") is not None and "libelle" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "cle"}
        super().save(*args, **kwargs)

    @property
    def parent(self):
        return self.sous_theme or self.theme

    def parent_in_diagnostic(self):
        if self.sous_theme_id:
            return self.sous_theme
        return self.theme if self.theme_id else None

    @property
    def theme_effectif(self):
        """The thème this item falls under, whichever level it hangs from."""
        return self.sous_theme.theme if self.sous_theme_id else self.theme


class Difficulte(Element):
    class Meta(Element.Meta):
        verbose_name = "difficulté prégnante"
        verbose_name_plural = "difficultés prégnantes"
        constraints = element_constraints()
        indexes = [
            models.Index(fields=["sous_theme", "position"], name="diag_diff_sous_theme_pos_idx"),
            models.Index(fields=["theme", "position"], name="diag_diff_theme_pos_idx"),
        ]


# Who takes part in a contract ------------------------------------------------------------


class MembreQuerySet(models.QuerySet):
    def du_compte(self, user):
        """The memberships that give `user` a role: their own and their organisation's."""
        return self.filter(
            Q(compte_id=user.pk) | Q(organisation__profils__compte_id=user.pk)
        ).distinct()


class Membre(TimestampedModel):
    """A role on one contract (on every edition of its diagnostic), given to a person or,
    for partners, to a whole organisation: each of its accounts holds the role. What a
    role may do is declared in `comptes.roles.ROLES`, read by `diagnostics.access`."""

    ROLES = [(role.value, role.value) for role in Role]

    contrat = models.ForeignKey(
        Contrat, on_delete=models.CASCADE, related_name="membres", verbose_name="contrat"
    )
    compte = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="adhesions",
        verbose_name="personne",
    )
    organisation = models.ForeignKey(
        "comptes.Organisation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="adhesions",
        verbose_name="organisation",
    )
    role = models.CharField("rôle", max_length=20, choices=ROLES)

    objects = MembreQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "membre"
        verbose_name_plural = "membres"
        ordering = ["contrat", "role", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(compte__isnull=False, organisation__isnull=True)
                    | Q(compte__isnull=True, organisation__isnull=False)
                ),
                name="%(app_label)s_%(class)s_une_personne_ou_une_organisation",
                violation_error_message="Un rôle est donné à une personne ou à une organisation.",
            ),
            models.CheckConstraint(
                condition=Q(organisation__isnull=True) | Q(role=Role.PARTENAIRE.value),
                name="%(app_label)s_%(class)s_organisation_partenaire",
                violation_error_message=(
                    "Une organisation entière ne peut recevoir que le rôle Partenaire."
                ),
            ),
            models.CheckConstraint(
                condition=Q(role__in=[role.value for role in Role]),
                name="%(app_label)s_%(class)s_role_connu",
                violation_error_message="Ce rôle n'existe pas.",
            ),
            models.UniqueConstraint(
                fields=["contrat", "compte"],
                name="%(app_label)s_%(class)s_un_role_par_personne",
                violation_error_message="Cette personne a déjà un rôle dans ce contrat.",
            ),
            models.UniqueConstraint(
                fields=["contrat", "organisation"],
                name="%(app_label)s_%(class)s_un_role_par_organisation",
                violation_error_message="Cette organisation a déjà un rôle dans ce contrat.",
            ),
        ]
        indexes = [models.Index(fields=["compte", "contrat"], name="diag_membre_compte_idx")]

    def __str__(self):
        return f"{self.compte or self.organisation} — {self.role} ({self.contrat})"

    @property
    def titulaire(self):
        """Who holds the role, as the pages name them: a person's full name (else their
        identifier), or the organisation's name."""
        if self.compte_id:
            return self.compte.get_full_name() or self.compte.get_username()
        return self.organisation.nom


class Invitation(TimestampedModel):
    """An invitation to take a role on a contract, sent by e-mail: the link holds a secret
    of which only the hash is kept; it expires (`settings.INVITATION_VALIDITY`) and serves
    once."""

    contrat = models.ForeignKey(
        Contrat, on_delete=models.CASCADE, related_name="invitations", verbose_name="contrat"
    )
    email = models.EmailField("adresse électronique")
    role = models.CharField("rôle", max_length=20, choices=Membre.ROLES)
    empreinte = models.CharField("empreinte du lien", max_length=64, editable=False)
    expire_le = models.DateTimeField("expire le")
    invite_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name="invité par",
    )
    acceptee_le = models.DateTimeField("acceptée le", null=True, blank=True)
    acceptee_par = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="acceptée par",
    )

    class Meta:
        verbose_name = "invitation"
        verbose_name_plural = "invitations"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["empreinte"], name="%(app_label)s_%(class)s_unique_empreinte"
            ),
            models.CheckConstraint(
                condition=Q(role__in=[role.value for role in Role]),
                name="%(app_label)s_%(class)s_role_connu",
                violation_error_message="Ce rôle n'existe pas.",
            ),
        ]

    def __str__(self):
        return f"{self.email} — {self.role} ({self.contrat})"

    @property
    def est_expiree(self):
        return timezone.now() >= self.expire_le

    @property
    def est_utilisable(self):
        return self.acceptee_le is None and not self.est_expiree
