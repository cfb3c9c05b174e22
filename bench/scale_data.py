"""Synthetic data at national scale, clearly marked as such (`python -m bench.generate_scale_data`).

At scale 1: 435 diagnostics (as many as the contrats de ville of 2024), 1,584 quartiers
(the QPV of 2024), each diagnostic shaped like Montluçon's seed with random sizes around
it, 100 indicators per diagnostic and ten years (2015–2024) of yearly measures for each
of its quartiers (1,584,000) and for the whole territory (435,000: the tableau de bord
shows that series first). A scale S multiplies the diagnostics and the quartiers; the
indicators per diagnostic and the years stay fixed. `expected_counts(scale)` gives them.

What the data looks like:
- the texts are the seed's (fixtures/diagnostic-montlucon.tsv, read by the importer's
  reader): its piliers, thèmes and sous-thèmes, its difficultés (sometimes completed by a
  phrase of the seed, "notamment depuis la crise sanitaire"), its indicators beside
  indicators written in the same words; so the full-text search and the filters meet
  the vocabulary of real data;
- 3 or 4 piliers, the seed's counts of thèmes and sous-thèmes within ±30 %, about 40 %
  of sous-thèmes without items, a few items at the level of their thème, 35 to 65
  difficultés, exactly 100 indicators, a third of the items tagged with quartiers;
- each diagnostic owns 3 or 4 quartiers (`quartier_numbers`), every quartier belongs to
  one diagnostic; indicators are quantitative (counts of people, rates, quantities) or
  qualitative (a written constat each year), with type, unit, source, yearly
  periodicity, desired direction, reference (2015) and target (2030); counts of people
  include small values, masked to partners by the secret statistique;
- as an import would write them: an `Import` record (the diagnostic's table, then its
  measures file), the source cell of every pilier, thème, sous-thème and item, and a
  creation row ('+') in the change history of every object, its change reason naming the
  import (an item's creation row lists its quartiers, as if tagged when created).

Each diagnostic is the first edition ("Diagnostic initial — mars 2024") of a contrat de ville of
its own, with the same slug (`synthetique-0012`), named "Contrat de ville synthétique n° 12
(données de test)"; every pilier, thème, sous-thème and item starts a lineage of its own
(`lignee`: a fresh uuid4, as the application gives a new item; `origine` empty).

Marked synthetic everywhere: slugs `synthetique-0001`… (diagnostics and contracts),
titles "Diagnostic synthétique n° 12 (données de test)", territoires "Territoire
synthétique n° 12", quartiers "Quartier synthétique n° 37" with codes `QN99…` (see
`quartier_code`), measures `fictive` with the source "Données synthétiques" (so
`demo_mesures --retirer`, which deletes every fictitious measure, deletes them too).

Deterministic: diagnostic n is drawn from a random generator seeded with (graine, n)
only, so it is the same whatever the scale and the order of the runs. `generate(scale)`
tops up: it writes the missing diagnostics 1…N and removes those above N; `remove()`
deletes every synthetic row and nothing else: the synthetic contracts with every edition
of them (an edition started from a synthetic diagnostic, e.g. by bench/editions.py, too).
The lineages (uuid4) are the one thing drawn afresh at each run.

Fast: rows are built in Python with their ids allocated beforehand (PostgreSQL: `nextval`
over `generate_series`, so the sequences stay consistent; elsewhere: after the table's
largest id), written with `COPY` on PostgreSQL (psycopg 3) and `executemany` elsewhere;
the history rows are copied from the rows just written by INSERT … SELECT in the
database. Each batch of `BATCH_SIZE` diagnostics is one transaction: a failure leaves
nothing of that batch. Measured on a shared 2-core machine (load average about 3),
PostgreSQL 15: scale 1 in 95 s (4.3 million rows, history included, 45,000 rows/s,
100 MB), scale 0.1 in 7 s; SQLite: scale 0.1 in 4 s. Most of the PostgreSQL time is the
server's (indexes, and the deferred foreign key checks at each commit); the history of
the measures costs about a third more (`measures_history=False` leaves it out).
"""

import datetime
import hashlib
import json
import random
import re
import time
import uuid
from bisect import bisect
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Q
from django.utils import timezone

from diagnostics.imports.reader import read_table
from diagnostics.models import (
    CelluleSource,
    Commune,
    Contrat,
    Diagnostic,
    Difficulte,
    Import,
    ImportEnAttente,
    Invitation,
    Membre,
    Pilier,
    Quartier,
    SousTheme,
    Suppression,
    Theme,
    import_change_reason,
)
from diagnostics.text import collapse_whitespace, fingerprint, normalize_key
from indicateurs.models import INFORMATIONS, Indicateur, Mesure

SEED = Path(settings.BASE_DIR) / "fixtures" / "diagnostic-montlucon.tsv"

DIAGNOSTICS_A_L_ECHELLE_1 = 435
QUARTIERS_A_L_ECHELLE_1 = 1_584
INDICATEURS_PAR_DIAGNOSTIC = 100
ANNEES = tuple(range(2015, 2025))
ANNEE_CIBLE = 2030
GRAINE = 2024
BATCH_SIZE = 10  # diagnostics per transaction (about 46,000 measures)
ANALYZE_ROWS = 100_000  # PostgreSQL: fresh planner statistics after writing this many rows

SLUG_PREFIX = "synthetique-"
SLUG = re.compile(r"^synthetique-(\d+)$")
SOURCE = "Données synthétiques"
CONTRAT_REASON = "Contrat de ville synthétique (données de test)"  # its creation row
TERRITOIRE = None  # the series of the whole territory (Mesure.quartier is NULL)

# Quartier codes. A real QPV code is QN + the département on three digits (003 for the
# Allier, 971-976 overseas) + the quartier's number + a letter: QN00304M. No département
# is numbered 990-999, so the codes QN99ddd<letter> never collide with a real one, and
# they pass the model's validator (^QN\d{5}[A-Z]$). The letter M is left out, so that
# they do not meet the test factories' codes either (QN9xxxxM).
CODE_PREFIX = "QN99"
CODE_LETTERS = "ZYXWVUTSRQPONLKJIHGFEDCBA"
CODE = re.compile(rf"^{CODE_PREFIX}(\d{{3}})([{CODE_LETTERS}])$")
MAX_QUARTIERS = 1000 * len(CODE_LETTERS)
# Commune codes: no commune's code INSEE starts with 96 (no such département) nor 99 (the
# INSEE's codes of foreign countries), so 96ddd and 99ddd never meet a real commune.
COMMUNE_PREFIXES = ("96", "99")
COMMUNE_CODE = re.compile(r"^(96|99)\d{3}$")
MAX_SCALE = 10


class ScaleDataError(Exception):
    """The data cannot be generated as asked (its message is in French, for the user)."""


# Sizes ------------------------------------------------------------------------------------


def diagnostics_count(scale):
    """The number of diagnostics at `scale`: 435 × scale, rounded, at least 1."""
    return max(1, int(DIAGNOSTICS_A_L_ECHELLE_1 * scale + 0.5))


def quartiers_count(diagnostics):
    """The number of quartiers of diagnostics 1…`diagnostics` (1,584 for 435)."""
    return diagnostics * QUARTIERS_A_L_ECHELLE_1 // DIAGNOSTICS_A_L_ECHELLE_1


def quartier_numbers(n):
    """The quartiers of diagnostic n (3 or 4 numbers, from 1): they follow the previous
    diagnostic's, so that each quartier belongs to one diagnostic whatever the scale."""
    return range(quartiers_count(n - 1) + 1, quartiers_count(n) + 1)


def quartier_code(number):
    """QN99000Z for quartier 1, … QN99999Z, then QN99000Y… (see CODE_PREFIX)."""
    letter, digits = divmod(number - 1, 1000)
    return f"{CODE_PREFIX}{digits:03d}{CODE_LETTERS[letter]}"


def quartier_number(code):
    """The number of a synthetic quartier code, None for any other code."""
    match = CODE.match(code)
    if match is None:
        return None
    return CODE_LETTERS.index(match[2]) * 1000 + int(match[1]) + 1


def slug_of(n):
    return f"{SLUG_PREFIX}{n:04d}"


def number_of(slug):
    match = SLUG.match(slug)
    return int(match[1]) if match else None


def synthetic_diagnostics():
    return Diagnostic.objects.filter(slug__regex=SLUG.pattern)


def synthetic_contrats():
    return Contrat.objects.filter(slug__regex=SLUG.pattern)


def synthetic_quartiers():
    return Quartier.objects.filter(code__regex=CODE.pattern)


def synthetic_communes(n):
    """The two communes of diagnostic n's quartiers (see COMMUNE_CODE), shared by the
    diagnostics a thousand apart."""
    return [f"{prefix}{n % 1000:03d}" for prefix in COMMUNE_PREFIXES]


def commune_name(code):
    return f"Commune synthétique {code} (données de test)"


def expected_counts(scale):
    """What `generate(scale)` leaves, by kind (the diagnostics' inner sizes vary)."""
    diagnostics = diagnostics_count(scale)
    quartiers = quartiers_count(diagnostics)
    return {
        "diagnostics": diagnostics,
        "quartiers": quartiers,
        "indicateurs": diagnostics * INDICATEURS_PAR_DIAGNOSTIC,
        "mesures": INDICATEURS_PAR_DIAGNOSTIC * len(ANNEES) * (quartiers + diagnostics),
    }


# Vocabulary: the seed's words -------------------------------------------------------------

# The seed's thèmes by family (the start of their comparison key), to find the indicators
# and difficultés that suit a thème.
FAMILLES = (
    ("education", "education"),
    ("parentalite", "parentalite"),
    ("culture", "culture"),
    ("sante", "sante"),
    ("jeunesse", "jeunesse"),
    ("lien social", "lien_social"),
    ("prevention et lutte", "discriminations"),
    ("emploi", "emploi"),
    ("developpement economique", "economie"),
    ("cadre de vie", "cadre_de_vie"),
    ("tranquillite", "tranquillite"),
)

# A few more thèmes in the seed's words (State's nomenclature), so that a pilier can have
# more thèmes than the seed's: (group, libellé, family, sous-thèmes).
THEMES_SUPPLEMENTAIRES = (
    (
        "cohesion",
        "Accès aux droits et aux services publics",
        "parentalite",
        ("Accès aux droits", "Lutte contre le non-recours", "Médiation numérique"),
    ),
    (
        "cohesion",
        "Sport et activités physiques",
        "lien_social",
        ("Sport santé", "Accès aux clubs sportifs"),
    ),
    (
        "emploi",
        "Insertion professionnelle",
        "emploi",
        (
            "Insertion par l'activité économique",
            "Accès à la formation et à la qualification",
            "Lever les freins périphériques à l'emploi",
        ),
    ),
    (
        "cadre",
        "Mobilité",
        "cadre_de_vie",
        ("Transport et mobilité", "Apprentissage de la mobilité"),
    ),
    (
        "cadre",
        "Transition écologique",
        "cadre_de_vie",
        ("Sobriété énergétique", "Gestion des déchets", "Nature en ville"),
    ),
)

# The piliers: the seed's three, or the four axes of contracts like Montluçon's
# (éducation, emploi, santé, cadre de vie): (libellés as the seed writes them or in
# sentence case, group of the extra thèmes, families of the seed's thèmes).
PILIERS_3 = (
    (
        ("COHESION SOCIALE", "Cohésion sociale"),
        "cohesion",
        (
            "education",
            "parentalite",
            "culture",
            "sante",
            "jeunesse",
            "lien_social",
            "discriminations",
        ),
    ),
    (
        ("DEVELOPPEMENT ECONOMIQUE ET EMPLOI", "Développement économique et emploi"),
        "emploi",
        ("emploi", "economie"),
    ),
    (
        ("CADRE DE VIE ET RENOUVELLEMENT URBAIN", "Cadre de vie et renouvellement urbain"),
        "cadre",
        ("cadre_de_vie", "tranquillite"),
    ),
)
PILIERS_4 = (
    (
        ("EDUCATION ET JEUNESSE", "Éducation et jeunesse"),
        "",
        ("education", "parentalite", "jeunesse", "culture"),
    ),
    (
        ("EMPLOI ET DEVELOPPEMENT ECONOMIQUE", "Emploi et développement économique"),
        "emploi",
        ("emploi", "economie"),
    ),
    (
        ("SANTE, LIEN SOCIAL ET CITOYENNETE", "Santé, lien social et citoyenneté"),
        "cohesion",
        ("sante", "lien_social", "discriminations"),
    ),
    (
        ("CADRE DE VIE ET RENOUVELLEMENT URBAIN", "Cadre de vie et renouvellement urbain"),
        "cadre",
        ("cadre_de_vie", "tranquillite"),
    ),
)

# Phrases of the seed that complete a difficulté ("…, notamment depuis la crise sanitaire").
COMPLEMENTS = (
    "notamment depuis la crise sanitaire",
    "en particulier pour les familles monoparentales",
    "notamment chez les jeunes de 16 à 25 ans",
    "pour les pré-ados de 11 à 14 ans",
    "au sein des QPV",
    "malgré les actions menées par les associations",
    "faute de moyens financiers",
    "en raison de la barrière de la langue",
    "dans les accueils de loisirs",
    "pour les personnes peu qualifiées",
    "selon les partenaires du contrat de ville",
    "signalé par le conseil citoyen",
)

# Written constats of the qualitative indicators, one a year and series.
CONSTATS = (
    "Les habitants citent davantage les lieux de rencontre du quartier.",
    "Isolement marqué des personnes âgées après la crise sanitaire.",
    "Les familles monoparentales se disent isolées, faute de solution de garde.",
    "Les partenaires relèvent une meilleure coordination des actions.",
    "Mobilisation encore inégale des parents selon les thématiques.",
    "Peu d'évolution constatée par les acteurs de terrain.",
    "Amélioration perçue par le conseil citoyen.",
    "Difficultés persistantes signalées par les associations du quartier.",
    "Participation en hausse lors des temps forts de l'année.",
    "Les employeurs se mobilisent davantage sur les actions collectives.",
)

NOMBRE, TAUX, QUANTITE, QUALITATIF = "nombre", "taux", "quantite", "qualitatif"
HAUSSE, BAISSE = Indicateur.Sens.HAUSSE, Indicateur.Sens.BAISSE


@dataclass(frozen=True)
class ModeleIndicateur:
    """An indicator to draw: the seed's own or one written in its words."""

    libelle: str
    famille: str
    unite: str
    nature: str  # NOMBRE, TAUX, QUANTITE or QUALITATIF
    personnes: bool  # counts people: the secret statistique applies
    sens: str  # Indicateur.Sens, empty for a qualitative indicator
    bas: float  # typical values of one quartier, from…
    haut: float  # …to
    source: str


# libellé | family | unit | nature | counts people | direction | low | high | source.
# The seed's 18 indicators first, as the seed writes them; then indicators in its words.
_CATALOGUE = """
Nombre d'interventions | education | interventions | nombre | non | hausse | 5 | 40 | Ville
Nombre d'animateurs | education | animateurs | nombre | non | hausse | 2 | 12 | Ville
Exigence des parents | education | | qualitatif | non | | 0 | 0 | Ville
Quantité de devoirs | education | | qualitatif | non | | 0 | 0 | Éducation nationale
Nombre de jeunes intégrant le programme Booster (alternance Service Civique, raccrochage \
scolaire) : pour des 16-17 ans --> raccrochage / aide à l'orientation / confiance en soi et \
développement de compétences | education | jeunes | nombre | oui | hausse | 1 | 10 | Mission locale
Le nombre de participants, satisfaction des participants, ouverture sur le monde | culture \
| | qualitatif | non | | 0 | 0 | Associations du quartier
20/30 jeunes QPV repérés | sante | jeunes | nombre | oui | hausse | 3 | 30 | ARS
Nombre de participants | lien_social | participants | nombre | oui | hausse | 20 | 150 | Ville
Sentiment d'isolement | lien_social | | qualitatif | non | | 0 | 0 | Conseil citoyen
Nombre d'action sport ou loisir | lien_social | actions | nombre | non | hausse | 2 | 25 | Ville
Nombre de dispositif FLE | emploi | dispositifs | nombre | non | hausse | 1 | 6 | Ville
Niveau réel FLE | emploi | | qualitatif | non | | 0 | 0 | France Travail
Nombre de personne sans permis de conduire | emploi | personnes | nombre | oui | baisse | 60 \
| 200 | Ville
Nombre de personne très éloignées de l'emploi | emploi | personnes | nombre | oui | baisse \
| 150 | 500 | France Travail
Collaboration partenariale lors des job dating avec l'ensemble des acteurs | emploi | \
| qualitatif | non | | 0 | 0 | France Travail
Plaintes des riverains | tranquillite | plaintes | nombre | non | baisse | 10 | 60 | Ville
Occupation du domaine public ou des parties communes | tranquillite | signalements | nombre \
| non | baisse | 5 | 50 | Bailleurs sociaux
Nombre de demandes de déménagement de la part des locataires et vacance des logements dans \
les bâtiments concernés | tranquillite | demandes | nombre | non | baisse | 3 | 40 \
| Bailleurs sociaux
Nombre d'enfants inscrits à l'étude surveillée | education | enfants | nombre | oui | hausse \
| 10 | 60 | Ville
Nombre d'enfants accompagnés par le Programme de Réussite Éducative | education | enfants \
| nombre | oui | hausse | 5 | 40 | Ville
Taux d'absentéisme scolaire des collégiens | education | % | taux | non | baisse | 4 | 15 \
| Éducation nationale
Nombre de jeunes de 16 à 25 ans en situation de décrochage scolaire | education | jeunes \
| nombre | oui | baisse | 3 | 40 | Éducation nationale
Nombre d'élèves accompagnés par le Contrat Local d'Accompagnement à la Scolarité | education \
| enfants | nombre | oui | hausse | 8 | 45 | CAF
Part des jeunes de 16 à 25 ans ni en emploi, ni en études, ni en formation | jeunesse | % \
| taux | non | baisse | 15 | 40 | Insee
Nombre de familles participant aux actions de soutien à la parentalité | parentalite \
| familles | nombre | oui | hausse | 3 | 30 | CAF
Nombre de familles monoparentales allocataires de la CAF | parentalite | familles | nombre \
| oui | stabilite | 40 | 300 | CAF
Nombre de rendez-vous d'accès aux droits sociaux | parentalite | rendez-vous | nombre | non \
| hausse | 20 | 200 | CAF
Taux de recours aux droits sociaux | parentalite | % | taux | non | hausse | 50 | 85 | CAF
Nombre de démarches dématérialisées accompagnées | parentalite | démarches | nombre | non \
| hausse | 30 | 400 | Ville
Nombre d'actions culturelles menées dans les QPV | culture | actions | nombre | non | hausse \
| 2 | 20 | Ville
Nombre d'habitants inscrits à la médiathèque | culture | habitants | nombre | oui | hausse \
| 30 | 300 | Ville
Nombre de spectateurs des actions de diffusion culturelle | culture | participants | nombre \
| oui | hausse | 40 | 400 | Ville
Taux de participation aux dépistages organisés des cancers | sante | % | taux | non | hausse \
| 25 | 55 | CPAM
Nombre de jeunes sensibilisés aux conduites addictives | sante | jeunes | nombre | oui \
| hausse | 10 | 120 | ARS
Nombre d'actions de prévention santé menées au sein des QPV | sante | actions | nombre | non \
| hausse | 1 | 15 | ARS
Part des habitants sans médecin traitant | sante | % | taux | non | baisse | 8 | 25 | CPAM
Nombre de faits de violences intrafamiliales signalés | sante | faits | nombre | non | baisse \
| 2 | 30 | Police nationale
Nombre de jeunes fréquentant les accueils de jeunes | jeunesse | jeunes | nombre | oui \
| hausse | 10 | 90 | Ville
Nombre de projets portés par des jeunes | jeunesse | projets | nombre | non | hausse | 0 | 8 \
| Ville
Nombre de bénévoles des associations du quartier | jeunesse | bénévoles | nombre | oui \
| hausse | 5 | 60 | Associations du quartier
Nombre de jeunes engagés en Service Civique | jeunesse | jeunes | nombre | oui | hausse | 1 \
| 15 | Mission locale
Nombre de jeunes licenciés dans les clubs sportifs | lien_social | jeunes | nombre | oui \
| hausse | 10 | 150 | Ville
Nombre de départs en vacances aidés | lien_social | familles | nombre | oui | hausse | 3 | 40 \
| CAF
Nombre de membres actifs du conseil citoyen | lien_social | habitants | nombre | oui | hausse \
| 3 | 15 | Conseil citoyen
Nombre de signalements de discriminations | discriminations | signalements | nombre | non \
| baisse | 0 | 12 | Défenseur des droits
Nombre d'acteurs formés à la prévention des discriminations | discriminations \
| professionnels | nombre | non | hausse | 2 | 30 | Ville
Nombre de demandeurs d'emploi inscrits à France Travail | emploi | personnes | nombre | oui \
| baisse | 150 | 900 | France Travail
Taux de chômage des 15-64 ans | emploi | % | taux | non | baisse | 15 | 35 | Insee
Nombre de participants aux job dating | emploi | personnes | nombre | oui | hausse | 10 | 80 \
| France Travail
Nombre de personnes accompagnées vers l'insertion professionnelle | emploi | personnes \
| nombre | oui | hausse | 20 | 150 | Mission locale
Part des demandeurs d'emploi de longue durée | emploi | % | taux | non | baisse | 35 | 60 \
| France Travail
Nombre de personnes inscrites à un atelier de français langue étrangère | emploi | personnes \
| nombre | oui | hausse | 5 | 60 | Ville
Nombre de créations d'entreprises dans les QPV | economie | entreprises | nombre | non \
| hausse | 2 | 30 | Insee
Nombre de porteurs de projet accompagnés vers la création d'activité | economie | personnes \
| nombre | oui | hausse | 2 | 25 | Intercommunalité
Nombre de commerces de proximité ouverts | economie | commerces | nombre | non | hausse | 3 \
| 25 | Ville
Nombre de logements sociaux vacants | cadre_de_vie | logements | nombre | non | baisse | 5 \
| 80 | Bailleurs sociaux
Taux de vacance des logements sociaux | cadre_de_vie | % | taux | non | baisse | 3 | 18 \
| Bailleurs sociaux
Nombre de ménages sensibilisés aux écogestes dans le logement | cadre_de_vie | ménages \
| nombre | oui | hausse | 10 | 120 | Bailleurs sociaux
Tonnage des déchets non triés collectés | cadre_de_vie | tonnes | quantite | non | baisse \
| 50 | 400 | Intercommunalité
Nombre de signalements de gestion urbaine de proximité | cadre_de_vie | signalements \
| nombre | non | baisse | 20 | 200 | Ville
Nombre d'usagers des transports en commun | cadre_de_vie | personnes | nombre | oui | hausse \
| 200 | 1500 | Intercommunalité
Nombre de faits de trafic de stupéfiants constatés | tranquillite | faits | nombre | non \
| baisse | 2 | 40 | Police nationale
Nombre d'interventions de médiation sociale | tranquillite | interventions | nombre | non \
| hausse | 20 | 250 | Ville
"""


def _catalogue(text):
    modeles = []
    for line in text.replace("\\\n", "").strip().splitlines():
        libelle, famille, unite, nature, personnes, sens, bas, haut, source = (
            collapse_whitespace(cell) for cell in line.split("|")
        )
        modeles.append(
            ModeleIndicateur(
                libelle,
                famille,
                unite,
                nature,
                personnes == "oui",
                sens,
                float(bas),
                float(haut),
                source,
            )
        )
    return tuple(modeles)


MODELES_INDICATEURS = _catalogue(_CATALOGUE)

# Variants of the indicators that count people ("…, dont femmes"), by unit, so that a
# diagnostic rarely repeats an indicator.
VARIANTES = {
    "personnes": (", dont femmes", ", dont moins de 26 ans", ", dont plus de 50 ans"),
    "habitants": (", dont femmes", ", dont moins de 26 ans", ", dont plus de 60 ans"),
    "participants": (", dont femmes", ", dont moins de 26 ans"),
    "jeunes": (", dont jeunes femmes", ", dont mineurs"),
    "enfants": (", dont filles", ", dont enfants de moins de 6 ans"),
    "familles": (", dont familles monoparentales", ", dont familles nombreuses"),
    "ménages": (", dont familles monoparentales", ", dont locataires du parc social"),
    "bénévoles": (", dont moins de 26 ans",),
}


def variantes(modele):
    """The libellé endings of an indicator: "" (itself), then its variants."""
    libelle = modele.libelle.casefold()
    return ("",) + tuple(
        variante
        for variante in VARIANTES.get(modele.unite, ())
        if variante.removeprefix(", dont ") not in libelle
    )


@dataclass
class Vocabulaire:
    """The seed's thèmes (with their sous-thèmes) and difficultés, by family."""

    themes: dict  # family -> [(libellé, [sous-thèmes], seed count of sous-thèmes)]
    difficultes: dict  # family -> [libellés]
    toutes_difficultes: list


def _family_of(theme):
    key = normalize_key(theme)
    for prefix, family in FAMILLES:
        if key.startswith(prefix):
            return family
    return "autre"


def _usable_difficulte(text):
    """A seed difficulté as a stand-alone item: no dangling "…inciter :", capitalised,
    the seed's town named generically."""
    text = collapse_whitespace(text.replace("Montluçon", "la commune"))
    if len(text) < 12 or text.endswith(":"):
        return None
    return text[0].upper() + text[1:]


@lru_cache(maxsize=1)
def seed_vocabulary(path=SEED):
    """The vocabulary read from the seed table, with the importer's own reader."""
    table = read_table(path.name, path.read_bytes())
    if table.errors or not table.rows:
        raise ScaleDataError(f"Le tableau de référence {path.name} est illisible.")
    themes, sous_themes, difficultes, toutes = {}, {}, {}, []
    for row in table.rows:
        if row.theme is None:
            continue
        family = _family_of(row.theme)
        if row.theme not in sous_themes:
            sous_themes[row.theme] = []
            themes.setdefault(family, []).append(row.theme)
        if row.sous_theme is not None and row.sous_theme not in sous_themes[row.theme]:
            sous_themes[row.theme].append(row.sous_theme)
        for item in row.difficultes:
            text = _usable_difficulte(item)
            if text and text not in toutes:
                difficultes.setdefault(family, []).append(text)
                toutes.append(text)
    return Vocabulaire(
        themes={
            family: [(name, sous_themes[name], len(sous_themes[name])) for name in names]
            for family, names in themes.items()
        },
        difficultes=difficultes,
        toutes_difficultes=toutes,
    )


# The plan of one diagnostic: what to write, without database ids -------------------------


@dataclass
class Noeud:
    libelle: str
    ligne: int
    parent: int | None  # index of the pilier (thèmes) or thème (sous-thèmes) in the plan
    rang: int  # numéro of a pilier, position otherwise


@dataclass
class Item:
    libelle: str
    ligne: int
    theme: int | None  # index of its thème when it hangs from the thème itself
    sous_theme: int | None
    position: int
    quartiers: list  # indexes in the plan's quartiers
    informations: dict = field(default_factory=dict)  # indicators only
    reperes: list = field(default_factory=list)  # [(nature, year, value)] of the territory
    series: list = field(default_factory=list)  # indicators: [(quartier index or None, values)]
    modele: ModeleIndicateur | None = None  # indicators only
    variante: str = ""


@dataclass
class Plan:
    numero: int
    slug: str
    titre: str
    territoire: str
    statut: str
    est_public: bool
    quartiers: list  # (number, code, nom, [codes INSEE of its communes])
    # Its contrat de ville (of the same slug) and the edition it is, the contract's first.
    contrat: str = ""
    signataires: str = ""
    nom_edition: str = ""
    date_edition: datetime.date | None = None
    piliers: list = field(default_factory=list)
    themes: list = field(default_factory=list)
    sous_themes: list = field(default_factory=list)
    difficultes: list = field(default_factory=list)
    indicateurs: list = field(default_factory=list)
    # The table's lines: (thème, sous-thème or None, family, line number, pilier's families).
    lignes: list = field(default_factory=list)
    cellules: list = field(default_factory=list)  # (ligne, colonne, texte)
    tableau: str = ""  # the source table, as a TSV file

    @property
    def mesures(self):
        values = sum(len(values) for item in self.indicateurs for _, values in item.series)
        return values + sum(len(item.reperes) for item in self.indicateurs)


Colonne = CelluleSource.Colonne
MOIS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def _around(rng, count, spread=0.3):
    """`count` ± 30 %, rounded."""
    return int(count * rng.uniform(1 - spread, 1 + spread) + 0.5)


def _spread(rng, total, slots):
    """`total` things shared among `slots` (a list): {slot: count}, each slot at least one
    when there are enough, unevenly (a few lines hold many items, as in the seed)."""
    if total <= 0 or not slots:
        return {}
    if total < len(slots):
        slots = rng.sample(slots, total)
    counts = dict.fromkeys(slots, 1)
    weights = list(accumulate(rng.expovariate(1.0) for _ in slots))
    for _ in range(total - len(slots)):
        counts[slots[bisect(weights, rng.random() * weights[-1])]] += 1
    return counts


def plan_diagnostic(n, graine=GRAINE, vocabulary=None, measures=True):
    """The plan of synthetic diagnostic n: the same for the same (graine, n), always.
    `measures=False` leaves out its measures and its source table (10 times quicker: its
    structure and items are the same)."""
    vocabulary = vocabulary or seed_vocabulary()
    rng = random.Random(f"contrat-ville:{graine}:{n}")
    published = n % 10 != 3  # one in ten is a draft
    plan = Plan(
        numero=n,
        slug=slug_of(n),
        titre=f"Diagnostic synthétique n° {n} (données de test)",
        territoire=f"Territoire synthétique n° {n}",
        statut=Diagnostic.Statut.PUBLIE if published else Diagnostic.Statut.BROUILLON,
        est_public=published and n % 2 == 1,
        quartiers=[],
        contrat=f"Contrat de ville synthétique n° {n} (données de test)",
        signataires=(
            f"Commune synthétique n° {n}, État (préfecture), conseil départemental, caisse "
            "d'allocations familiales, bailleurs sociaux (données de test)"
        ),
        # The contracts' first editions, spread over 2024 (not drawn: `rng` stays as it was).
        nom_edition=f"Diagnostic initial — {MOIS[(n - 1) % 12]} 2024",
        date_edition=datetime.date(2024, 1 + (n - 1) % 12, 15),
    )
    communes = synthetic_communes(n)
    for number in quartier_numbers(n):
        plan.quartiers.append(
            (
                number,
                quartier_code(number),
                f"Quartier synthétique n° {number}",
                communes[: rng.choice((1, 1, 2))],
            )
        )
    _plan_structure(plan, rng, vocabulary)
    _plan_items(plan, rng, vocabulary)
    if measures:
        _plan_measures(plan, random.Random(f"contrat-ville:{graine}:{n}:mesures"))
        _plan_source_table(plan)
    return plan


def edition_rows(plan):
    """What a new edition started from this diagnostic copies (`diagnostics.editions`), in
    rows, history aside: {kind: rows} of its levels, items, their quartiers and the values
    copied with an edition (a reference and a target of each quantitative indicator)."""
    rows = {
        "piliers": len(plan.piliers),
        "themes": len(plan.themes),
        "sous_themes": len(plan.sous_themes),
        "difficultes": len(plan.difficultes),
        "indicateurs": len(plan.indicateurs),
        "quartiers_des_elements": sum(
            len(item.quartiers) for item in plan.difficultes + plan.indicateurs
        ),
        "references_et_cibles": 2
        * sum(1 for item in plan.indicateurs if item.modele.nature != QUALITATIF),
    }
    return rows


def largest_diagnostic(scale=1, graine=GRAINE):
    """The number of the synthetic diagnostic of `scale` (1: the whole of France) whose
    new edition copies the most rows (`edition_rows`), the smallest number among equals."""
    vocabulary = seed_vocabulary()
    sizes = {
        n: sum(edition_rows(plan_diagnostic(n, graine, vocabulary, measures=False)).values())
        for n in range(1, diagnostics_count(scale) + 1)
    }
    return max(sizes, key=lambda n: (sizes[n], -n))


def _plan_structure(plan, rng, vocabulary):
    """Piliers, thèmes, sous-thèmes and the table's lines (line numbers of each level)."""
    layout = PILIERS_3 if rng.random() < 0.6 else PILIERS_4
    seed_case = rng.random() < 0.5
    extras_by_group = {}
    for group, libelle, family, sous_themes in THEMES_SUPPLEMENTAIRES:
        extras_by_group.setdefault(group, []).append(
            (libelle, list(sous_themes), len(sous_themes) - 1, family)
        )
    ligne = 1  # the header
    for numero, (libelles, group, families) in enumerate(layout, start=1):
        seed_themes = [
            (name, subs, count, family)
            for family in families
            for name, subs, count in vocabulary.themes.get(family, [])
        ]
        extras = list(extras_by_group.get(group, []))
        count = max(1, min(_around(rng, len(seed_themes)), len(seed_themes) + len(extras)))
        if count <= len(seed_themes):
            kept = sorted(rng.sample(range(len(seed_themes)), count))
            themes = [seed_themes[index] for index in kept]
        else:
            themes = seed_themes + rng.sample(extras, count - len(seed_themes))
        pilier = len(plan.piliers)
        plan.piliers.append(Noeud(libelles[0 if seed_case else 1], ligne + 1, None, numero))
        for position, (name, subs, seed_count, family) in enumerate(themes, start=1):
            theme = len(plan.themes)
            plan.themes.append(Noeud(name, ligne + 1, pilier, position))
            wanted = min(len(subs), max(min(1, seed_count), _around(rng, seed_count)))
            chosen = sorted(rng.sample(range(len(subs)), wanted))
            if not chosen or rng.random() < 0.2:  # items at the level of the thème
                ligne += 1
                plan.lignes.append((theme, None, family, ligne, families))
            for sub_position, index in enumerate(chosen, start=1):
                ligne += 1
                plan.sous_themes.append(Noeud(subs[index], ligne, theme, sub_position))
                plan.lignes.append((theme, len(plan.sous_themes) - 1, family, ligne, families))


def _with_complement(rng, text, complement=None):
    complement = complement or rng.choice(COMPLEMENTS)
    if text.endswith("."):
        return f"{text[:-1].rstrip()}, {complement}."
    return f"{text}, {complement}"


def _plan_items(plan, rng, vocabulary):
    """Difficultés (35 to 65) and exactly 100 indicators over the lines that hold items."""
    lines = plan.lignes
    # About 40 % of sous-thèmes hold nothing, as in the seed; at least three lines do.
    filled = [line for line in lines if line[1] is None or rng.random() < 0.6]
    if len(filled) < 3:
        filled = lines[: max(3, len(filled))]
    with_difficultes = [line for line in filled if rng.random() < 0.9] or filled[:1]
    with_indicateurs = [line for line in filled if rng.random() < 0.75] or filled[-1:]
    difficultes = _spread(rng, _around(rng, 50), with_difficultes)
    indicateurs = _spread(rng, INDICATEURS_PAR_DIAGNOSTIC, with_indicateurs)
    used_difficultes, used_indicateurs = set(), set()
    for line in lines:
        theme, sous_theme, family, ligne, families = line
        parent = {"theme": None if sous_theme is not None else theme, "sous_theme": sous_theme}
        in_line = set()
        for position in range(1, difficultes.get(line, 0) + 1):
            text = _pick_difficulte(rng, vocabulary, family, families, in_line, used_difficultes)
            in_line.add(fingerprint(text))
            plan.difficultes.append(
                Item(text, ligne, **parent, position=position, quartiers=_tags(rng, plan))
            )
        in_line = set()
        for position in range(1, indicateurs.get(line, 0) + 1):
            modele, variante = _pick_indicator(rng, family, families, in_line, used_indicateurs)
            in_line.add((modele, variante))
            used_indicateurs.add((modele, variante))
            plan.indicateurs.append(
                Item(
                    modele.libelle + variante,
                    ligne,
                    **parent,
                    position=position,
                    quartiers=_tags(rng, plan),
                    modele=modele,
                    variante=variante,
                )
            )


def _pick_difficulte(rng, vocabulary, family, families, in_line, in_diagnostic):
    """A difficulté of the seed for the thème's family, else for its pilier, else any, not
    yet used in the diagnostic while there is one; a third of them, and every repeated one,
    completed by a phrase of the seed. Never twice in one line."""
    pools = (
        vocabulary.difficultes.get(family, []),
        [text for other in families for text in vocabulary.difficultes.get(other, [])],
        vocabulary.toutes_difficultes,
    )
    unused = next(
        (fresh for pool in pools if (fresh := [t for t in pool if t not in in_diagnostic])), []
    )
    for _ in range(20):
        base = rng.choice(unused or vocabulary.toutes_difficultes)
        text = base if unused and rng.random() >= 0.35 else _with_complement(rng, base)
        if fingerprint(text) not in in_line:
            in_diagnostic.add(base)
            return text
    # A line holding most of what the seed offers: the first combination left.
    for base in vocabulary.toutes_difficultes:
        for complement in COMPLEMENTS:
            text = _with_complement(rng, base, complement)
            if fingerprint(text) not in in_line:
                return text
    raise ScaleDataError("Le tableau de référence n'a pas assez de difficultés.")


def _tags(rng, plan):
    """A third of the items name one or two quartiers of their diagnostic."""
    if rng.random() >= 0.35 or not plan.quartiers:
        return []
    count = min(rng.choice((1, 1, 2)), len(plan.quartiers))
    return sorted(rng.sample(range(len(plan.quartiers)), count))


def _pick_indicator(rng, family, families, in_line, in_diagnostic):
    """An indicator of the thème's family not yet used in the diagnostic, else of its
    pilier, else a variant ("…, dont femmes"), else any; never twice in one line."""
    own = [m for m in MODELES_INDICATEURS if m.famille == family]
    pilier = [m for m in MODELES_INDICATEURS if m.famille in families]
    for pool, with_variants in (
        (own, False),
        (pilier, False),
        (own, True),
        (pilier, True),
        (MODELES_INDICATEURS, False),
        (MODELES_INDICATEURS, True),
    ):
        candidates = [
            (modele, variante)
            for modele in pool
            for variante in (variantes(modele) if with_variants else ("",))
            if (modele, variante) not in in_diagnostic
        ]
        if candidates:
            return rng.choice(candidates)
    return rng.choice(
        [
            (modele, variante)
            for modele in MODELES_INDICATEURS
            for variante in variantes(modele)
            if (modele, variante) not in in_line
        ]
    )


def _plan_measures(plan, rng):
    """Ten yearly values per indicator: the whole territory, then each quartier."""
    sizes = [rng.uniform(0.6, 1.5) for _ in plan.quartiers]
    for item in plan.indicateurs:
        modele = item.modele
        share = rng.uniform(0.3, 0.55) if item.variante else 1.0
        if modele.nature == QUALITATIF:
            series = [
                (index, [rng.choice(CONSTATS) for _ in ANNEES])
                for index in [TERRITOIRE, *range(len(plan.quartiers))]
            ]
            item.series = series
            item.informations = _informations(modele)
            continue
        toward = {HAUSSE: 1, BAISSE: -1}.get(modele.sens, 0)
        by_quartier = []
        for size in sizes:
            direction = toward if rng.random() < 0.6 else rng.choice((-1, 1))
            if modele.nature == TAUX:
                start, step = rng.uniform(modele.bas, modele.haut), rng.uniform(0.1, 0.8)
                values = [
                    min(100.0, max(0.0, start + direction * step * year + rng.gauss(0, 0.7)))
                    for year in range(len(ANNEES))
                ]
            else:
                start = rng.uniform(modele.bas, modele.haut) * size * share
                rate = direction * rng.uniform(0.01, 0.05)
                values = [
                    max(0.0, start * (1 + rate) ** year * rng.uniform(0.93, 1.07))
                    for year in range(len(ANNEES))
                ]
            by_quartier.append(values)
        if modele.nature == TAUX:
            territory = [sum(column) / len(column) for column in zip(*by_quartier, strict=True)]
        else:
            territory = [sum(column) for column in zip(*by_quartier, strict=True)]
        decimals = 0 if modele.nature == NOMBRE else 1
        if modele.nature == NOMBRE:
            by_quartier = [[round(value) for value in values] for values in by_quartier]
            territory = [sum(column) for column in zip(*by_quartier, strict=True)]
        reference = territory[0]
        target = {
            HAUSSE: reference * rng.uniform(1.1, 1.3),
            BAISSE: reference * rng.uniform(0.7, 0.9),
        }.get(modele.sens, reference)
        item.informations = _informations(modele)
        item.reperes = [
            ("reference", ANNEES[0], _number(reference, decimals)),
            ("cible", ANNEE_CIBLE, _number(target, decimals)),
        ]
        item.series = [(TERRITOIRE, [_number(value, decimals) for value in territory])] + [
            (index, [_number(value, decimals) for value in values])
            for index, values in enumerate(by_quartier)
        ]


def _number(value, decimals):
    """A measure's value as the text of a decimal number ("12", "8.5")."""
    return str(round(value)) if decimals == 0 else f"{value:.{decimals}f}"


def _informations(modele):
    quantitatif = modele.nature != QUALITATIF
    lower = modele.libelle[0].lower() + modele.libelle[1:]
    if modele.nature == TAUX:
        calcul = (
            "Rapport, en pourcentage, entre l'effectif concerné et la population de référence "
            f"du quartier ({modele.source})."
        )
    elif quantitatif:
        calcul = f"Décompte de l'année civile, transmis par : {modele.source}."
    else:
        calcul = f"Constat établi chaque année avec : {modele.source}."
    return {
        "type": Indicateur.Type.QUANTITATIF if quantitatif else Indicateur.Type.QUALITATIF,
        "unite": modele.unite,
        "definition": (
            "Indicateur synthétique (données de test), suivi chaque année pour chaque "
            f"quartier prioritaire et pour l'ensemble du territoire : {lower}."
        ),
        "mode_calcul": calcul,
        "source_donnees": modele.source,
        "periodicite": Indicateur.Periodicite.ANNUELLE,
        "sens_souhaite": modele.sens,
        "taux": False,  # rates are given as values, without their terms
        "compte_des_personnes": modele.personnes,
        "seuil_secret": None,
    }


def _plan_source_table(plan):
    """The source cells of every level and item, and the table they come from (TSV)."""
    items = {}
    for kind, column in (
        ("difficultes", Colonne.DIFFICULTES),
        ("indicateurs", Colonne.INDICATEURS),
    ):
        for item in getattr(plan, kind):
            items.setdefault((item.ligne, column), []).append(item.libelle)
    first_line_of_pilier = {node.ligne for node in plan.piliers}
    first_line_of_theme = {node.ligne for node in plan.themes}
    sous_theme_at = {node.ligne: node for node in plan.sous_themes}
    pilier_at = {node.ligne: node for node in plan.piliers}
    theme_at = {node.ligne: node for node in plan.themes}
    rows = ["Pilier\tThème\tSous-thème\tDifficultés prégnantes\tIndicateur"]
    for _, _, _, ligne, _ in plan.lignes:
        cells = {}
        if ligne in first_line_of_pilier:
            node = pilier_at[ligne]
            cells[Colonne.PILIER] = f"{node.rang} {node.libelle}"
        if ligne in first_line_of_theme:
            cells[Colonne.THEME] = theme_at[ligne].libelle
        if ligne in sous_theme_at:
            cells[Colonne.SOUS_THEME] = sous_theme_at[ligne].libelle
        for column in (Colonne.DIFFICULTES, Colonne.INDICATEURS):
            if (ligne, column) in items:
                cells[column] = " ".join(f"- {text}" for text in items[(ligne, column)])
        for column, text in cells.items():
            plan.cellules.append((ligne, column, text))
        rows.append("\t".join(cells.get(column, "") for column in Colonne.values))
    plan.tableau = "\n".join(rows) + "\n"


# Writing ----------------------------------------------------------------------------------

# The columns written, by model, in the order of the rows built below (checked against the
# models by `_check_columns`, so that a new field cannot be silently left out).
NODE = "id created_at updated_at version lignee origine_id libelle cle source_id"
ELEMENT = (
    "id created_at updated_at version lignee origine_id theme_id sous_theme_id libelle cle "
    "position source_id diagnostic_id"
)
COLUMNS = {
    model: tuple(columns.split())
    for model, columns in (
        (
            Quartier,
            "id created_at updated_at code nom region contour contour_demonstration",
        ),
        (
            Contrat,
            "id created_at updated_at nom slug territoire signataires annee_debut annee_fin",
        ),
        (
            Diagnostic,
            "id created_at updated_at contrat_id nom_edition date_edition precedente_id titre "
            "slug territoire annee_debut annee_fin statut est_public",
        ),
        (
            Import,
            "id nature diagnostic_id nom_fichier sha256 taille importe_par_id created_at "
            "compte_rendu annule_le annule_par_id",
        ),
        (CelluleSource, "id import_source_id ligne colonne texte"),
        (Pilier, f"{NODE} diagnostic_id numero"),
        (Theme, f"{NODE} pilier_id position diagnostic_id"),
        (SousTheme, f"{NODE} theme_id position diagnostic_id"),
        (Difficulte, ELEMENT),
        (Indicateur, f"{ELEMENT} {' '.join(INFORMATIONS)}"),
        # Measures take their ids from the database (nothing refers to them here).
        (
            Mesure,
            "created_at updated_at version indicateur_id annee type_periode numero_periode "
            "quartier_id valeur texte source commentaire saisi_par_id fictive nature "
            "territoire_id numerateur denominateur",
        ),
    )
}
HISTORY_FIELDS = {
    "history_id",
    "history_date",
    "history_change_reason",
    "history_type",
    "import_source_id",  # the links of `HistoryLinks`
    "annulation_de_id",
    "suppression_id",
    "action",  # left empty: rows written by no request are grouped by author and second
}


def _check_columns():
    """Every concrete field of each model is written (ids aside): a field added to a model
    must be added here, rather than be left to a default that may not exist."""
    for model, columns in COLUMNS.items():
        expected = {f.attname for f in model._meta.concrete_fields}
        if model is Mesure:
            expected.discard("id")
        if set(columns) != expected:
            raise RuntimeError(
                f"Les colonnes écrites pour {model.__name__} ne correspondent plus au modèle : "
                f"{sorted(set(columns) ^ expected)}."
            )
    for model in (Contrat, Diagnostic, Pilier, Theme, SousTheme, Difficulte, Indicateur, Mesure):
        history = model.history.model
        expected = {f.attname for f in model._meta.concrete_fields} | HISTORY_FIELDS
        if model is Contrat:  # no `HistoryLinks`: nothing imports a contract
            expected -= {"import_source_id", "annulation_de_id", "suppression_id", "action"}
        expected.add("history_user_id")
        actual = {f.attname for f in history._meta.concrete_fields}
        if actual != expected:
            raise RuntimeError(
                f"L'historique de {model.__name__} ne correspond plus au modèle : "
                f"{sorted(actual ^ expected)}."
            )


def _through(model):
    return model.quartiers.through


def _m2m_history(model):
    history = model.history.model
    return apps.get_model(history._meta.app_label, f"{history.__name__}_quartiers")


class _Writer:
    """Ids and bulk inserts on one database connection (within the caller's transaction)."""

    def __init__(self, connection):
        self.connection = connection
        self.rows = 0  # rows written, history included

    def begin(self):
        """Called at the start of each transaction."""

    def allocate(self, model, count):
        raise NotImplementedError

    def insert(self, model, columns, rows):
        raise NotImplementedError

    def execute(self, sql, params=()):
        with self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            return max(cursor.rowcount, 0)

    def copy_history(self, model, where, params, stamp, written_by=None, reason=""):
        """The creation rows ('+') in `model`'s history of the rows matching `where`, as
        the import `written_by` (an `_ImportRef`) would write them; without an import (a
        contract), with the reason given."""
        qn = self.connection.ops.quote_name
        columns = ", ".join(qn(f.column) for f in model._meta.concrete_fields)
        history = model.history.model._meta.db_table
        if written_by is None:
            link, values = "", [stamp, reason]
        else:
            link = "import_source_id, "
            values = [stamp, import_change_reason(written_by), written_by.pk]
        self.rows += self.execute(
            f"INSERT INTO {qn(history)} ({columns}, history_date, history_change_reason, "
            f"{link}history_type, history_user_id) "
            f"SELECT {columns}, {', '.join(['%s'] * len(values))}, '+', NULL "
            f"FROM {qn(model._meta.db_table)} WHERE {where}",
            [*values, *params],
        )

    def copy_m2m_history(self, model, ids):
        """The quartiers of each item, as of its creation row in the history."""
        qn = self.connection.ops.quote_name
        through = _through(model)
        own = _owner_column(model)
        m2m_history = _m2m_history(model)._meta.db_table
        history = model.history.model._meta.db_table
        self.rows += self.execute(
            f"INSERT INTO {qn(m2m_history)} (id, {qn(own)}, quartier_id, history_id) "
            f"SELECT t.id, t.{qn(own)}, t.quartier_id, h.history_id "
            f"FROM {qn(through._meta.db_table)} t JOIN {qn(history)} h ON h.id = t.{qn(own)} "
            f"WHERE t.{qn(own)} IN ({_ids(ids)}) AND h.history_type = '+'"
        )


def _ids(ids):
    """A list of ids inside SQL (integers only: nothing to escape)."""
    return ", ".join(str(int(pk)) for pk in ids) or "NULL"


class _PostgresWriter(_Writer):
    """COPY (psycopg 3) and ids taken from the tables' sequences."""

    def allocate(self, model, count):
        if not count:
            return []
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [model._meta.db_table, count],
            )
            return [row[0] for row in cursor.fetchall()]

    def insert(self, model, columns, rows):
        if not rows:
            return
        from psycopg import sql

        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(model._meta.db_table),
            sql.SQL(", ").join(sql.Identifier(column) for column in columns),
        )
        with self.connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        self.rows += len(rows)


class _GenericWriter(_Writer):
    """executemany, ids after the largest one (SQLite: or its AUTOINCREMENT counter)."""

    def begin(self):
        self._next = {}

    def allocate(self, model, count):
        table = model._meta.db_table
        if table not in self._next:
            qn = self.connection.ops.quote_name
            with self.connection.cursor() as cursor:
                cursor.execute(f"SELECT MAX(id) FROM {qn(table)}")
                last = cursor.fetchone()[0] or 0
                if self.connection.vendor == "sqlite":
                    cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
                    found = cursor.fetchone()
                    last = max(last, found[0] if found else 0)
            self._next[table] = last + 1
        start = self._next[table]
        self._next[table] += count
        return list(range(start, start + count))

    def insert(self, model, columns, rows):
        if not rows:
            return
        qn = self.connection.ops.quote_name
        placeholders = ", ".join(["%s"] * len(columns))
        with self.connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(map(qn, columns))}) "
                f"VALUES ({placeholders})",
                rows,
            )
        self.rows += len(rows)


def _writer(connection):
    if connection.vendor == "postgresql":
        return _PostgresWriter(connection)
    return _GenericWriter(connection)


@dataclass
class Bilan:
    """What `generate` did."""

    diagnostics: int = 0  # synthetic diagnostics present at the end
    quartiers: int = 0
    crees: int = 0  # diagnostics written by this run
    retires: int = 0  # diagnostics above the scale, removed
    quartiers_crees: int = 0
    mesures: int = 0  # measures written by this run
    lignes: int = 0  # rows written by this run, history included
    secondes: float = 0.0

    @property
    def lignes_par_seconde(self):
        return self.lignes / self.secondes if self.secondes else 0.0


def generate(scale, graine=GRAINE, progress=None, measures_history=True, using=DEFAULT_DB_ALIAS):
    """Leave exactly the synthetic diagnostics 1…N of `scale` (see the module).

    `measures_history=False` leaves out the history rows of the measures (the other
    history rows are always written): half the rows, for a quicker benchmark database.

    `progress(bilan, done, total)` is called after each batch (diagnostics done of total).
    Returns a `Bilan`.
    """
    if not 0 < scale <= MAX_SCALE:
        raise ScaleDataError(f"L'échelle doit être supérieure à 0 et au plus {MAX_SCALE}.")
    _check_columns()
    started = time.perf_counter()
    total = diagnostics_count(scale)
    bilan = Bilan()
    present = {
        number_of(slug)
        for slug in synthetic_diagnostics().using(using).values_list("slug", flat=True)
    }
    contrats = {
        number_of(slug) for slug in synthetic_contrats().using(using).values_list("slug", flat=True)
    }
    if any(n > total for n in present | contrats):
        bilan.retires = remove(above_number=total, using=using)["diagnostics"]
    missing = [n for n in range(1, total + 1) if n not in present]
    return _write_numbers(
        missing, contrats, bilan, total, graine, progress, measures_history, using, started
    )


def add(numbers, graine=GRAINE, measures_history=True, using=DEFAULT_DB_ALIAS):
    """Write the synthetic diagnostics numbered `numbers` that are missing, whatever the
    scale (each is the same as `generate` writes: bench/editions.py adds the largest
    diagnostic of scale 1 to a smaller database). A later `generate(scale)` removes those
    above its scale. Returns a `Bilan`."""
    _check_columns()
    started = time.perf_counter()
    present = {
        number_of(slug)
        for slug in synthetic_diagnostics().using(using).values_list("slug", flat=True)
    }
    contrats = {
        number_of(slug) for slug in synthetic_contrats().using(using).values_list("slug", flat=True)
    }
    missing = sorted(n for n in set(numbers) if n not in present)
    return _write_numbers(
        missing, contrats, Bilan(), len(missing), graine, None, measures_history, using, started
    )


def _write_numbers(
    missing, contrats, bilan, total, graine, progress, measures_history, using, started
):
    """Write the synthetic diagnostics `missing`, by batches (see `generate`)."""
    vocabulary = seed_vocabulary()
    # A contract left without its synthetic diagnostic (deleted in the site, a draft): it
    # goes, with any other edition of it, and is written again with its diagnostic.
    orphans = contrats.intersection(missing)
    if orphans:
        with transaction.atomic(using=using):
            _remove_numbers(orphans.__contains__, using)
    connection = connections[using]
    writer = _writer(connection)
    quartiers = dict(synthetic_quartiers().using(using).values_list("code", "id"))
    now = timezone.now()
    done = total - len(missing)
    for start in range(0, len(missing), BATCH_SIZE):
        batch = missing[start : start + BATCH_SIZE]
        plans = [plan_diagnostic(n, graine, vocabulary) for n in batch]
        with transaction.atomic(using=using):
            writer.begin()
            created = _write(writer, plans, quartiers, now, measures_history)
        quartiers.update(created)
        bilan.quartiers_crees += len(created)
        bilan.crees += len(plans)
        bilan.mesures += sum(plan.mesures for plan in plans)
        bilan.lignes = writer.rows
        bilan.secondes = time.perf_counter() - started
        done += len(plans)
        if progress is not None:
            progress(bilan, done, total)
    if writer.rows >= ANALYZE_ROWS and connection.vendor == "postgresql":
        _analyze(connection)
    bilan.diagnostics = synthetic_diagnostics().using(using).count()
    bilan.quartiers = synthetic_quartiers().using(using).count()
    bilan.lignes = writer.rows
    bilan.secondes = time.perf_counter() - started
    return bilan


def _analyze(connection):
    """Fresh planner statistics for the tables just filled (autovacuum would come later)."""
    tables = [
        model._meta.db_table
        for model in (
            Quartier,
            Diagnostic,
            Pilier,
            Theme,
            SousTheme,
            Difficulte,
            Indicateur,
            Mesure,
        )
    ]
    tables += [_through(model)._meta.db_table for model in (Diagnostic, Difficulte, Indicateur)]
    tables.append(Mesure.history.model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in tables))


LEVELS = (
    (Pilier, "piliers", Colonne.PILIER),
    (Theme, "themes", Colonne.THEME),
    (SousTheme, "sous_themes", Colonne.SOUS_THEME),
)
ITEMS = (
    (Difficulte, "difficultes", Colonne.DIFFICULTES),
    (Indicateur, "indicateurs", Colonne.INDICATEURS),
)


@dataclass
class _Written:
    """The ids of one diagnostic's rows, to write their history."""

    contrat: int
    diagnostic: int
    table_import: "_ImportRef"
    measures_import: "_ImportRef"
    ids: dict  # model -> ids of the diagnostic's rows (levels and items)


def _write(writer, plans, known_quartiers, now, measures_history=True):
    """Write the plans (one transaction, the caller's); returns the quartiers created.
    Their contracts must not exist yet (`generate` removes what is left of one)."""
    stamp = writer.connection.ops.adapt_datetimefield_value(now)
    quartier_ids, created = _write_quartiers(writer, plans, known_quartiers, stamp)
    counts = {
        Contrat: len(plans),
        Diagnostic: len(plans),
        Import: 2 * len(plans),
        CelluleSource: sum(len(plan.cellules) for plan in plans),
    }
    for model, attribute, _ in LEVELS + ITEMS:
        counts[model] = sum(len(getattr(plan, attribute)) for plan in plans)
    ids = {model: iter(writer.allocate(model, count)) for model, count in counts.items()}
    rows = {model: [] for model in COLUMNS}
    links = {Diagnostic: [], Difficulte: [], Indicateur: []}  # quartiers, by owner
    adapt = _Adapt(writer.connection, stamp)
    written = [_rows_of(plan, ids, quartier_ids, adapt, rows, links) for plan in plans]
    for model in (
        Contrat,
        Diagnostic,
        Import,
        CelluleSource,
        *(model for model, _, _ in LEVELS + ITEMS),
    ):
        writer.insert(model, COLUMNS[model], rows[model])
    for model, pairs in links.items():
        writer.insert(_through(model), (_owner_column(model), "quartier_id"), pairs)
    writer.insert(Mesure, COLUMNS[Mesure], rows[Mesure])
    for diagnostic in written:
        _write_history(writer, diagnostic, stamp, measures_history)
    return created


def _write_quartiers(writer, plans, known, stamp):
    """The quartiers of the plans that do not exist yet: ({code: id} of all, of created)."""
    new = {
        quartier[1]: quartier
        for plan in plans
        for quartier in plan.quartiers
        if quartier[1] not in known
    }
    created = dict(zip(new, writer.allocate(Quartier, len(new)), strict=True))
    writer.insert(
        Quartier,
        COLUMNS[Quartier],
        [
            (created[code], stamp, stamp, code, nom, "", None, False)
            for code, (_, _, nom, _) in new.items()
        ],
    )
    communes = _write_communes(writer, {c for quartier in new.values() for c in quartier[3]})
    writer.insert(
        Quartier.communes.through,
        ("quartier_id", "commune_id"),
        [
            (created[code], communes[commune])
            for code, (_, _, _, codes) in new.items()
            for commune in codes
        ],
    )
    return {**known, **created}, created


def _write_communes(writer, codes):
    """{code: id} of the synthetic communes `codes`, the missing ones written."""
    known = dict(
        Commune.objects.using(writer.connection.alias)
        .filter(code__in=codes)
        .values_list("code", "pk")
    )
    new = sorted(code for code in codes if code not in known)
    created = dict(zip(new, writer.allocate(Commune, len(new)), strict=True))
    writer.insert(Commune, ("id", "code", "nom"), [(created[c], c, commune_name(c)) for c in new])
    return {**known, **created}


class _Adapt:
    """Values as the database takes them: the rows' date, an edition's date, fresh lineages
    (uuid4; SQLite stores them as 32 hexadecimal digits)."""

    def __init__(self, connection, stamp):
        self.stamp = stamp
        self.date = connection.ops.adapt_datefield_value
        native = connection.features.has_native_uuid_field
        self.lignee = uuid.uuid4 if native else (lambda: uuid.uuid4().hex)


def _rows_of(plan, ids, quartier_ids, adapt, rows, links):
    """Append the rows of one plan to `rows` and `links`; returns its `_Written`."""
    stamp, lignee = adapt.stamp, adapt.lignee
    contrat = next(ids[Contrat])
    diagnostic = next(ids[Diagnostic])
    written = _Written(
        contrat,
        diagnostic,
        _ImportRef(next(ids[Import]), f"diagnostic-{plan.slug}.tsv"),
        _ImportRef(next(ids[Import]), f"mesures-{plan.slug}.csv"),
        {},
    )
    quartiers = [quartier_ids[quartier[1]] for quartier in plan.quartiers]
    rows[Contrat].append(
        (contrat, stamp, stamp, plan.contrat, plan.slug, plan.territoire, plan.signataires)
        + (2024, 2030)
    )
    rows[Diagnostic].append(
        (
            diagnostic,
            stamp,
            stamp,
            contrat,
            plan.nom_edition,
            adapt.date(plan.date_edition),
            None,  # the first edition: copied from none
            plan.titre,
            plan.slug,
            plan.territoire,
            2024,
            2030,
            plan.statut,
            plan.est_public,
        )
    )
    links[Diagnostic] += [(diagnostic, quartier) for quartier in quartiers]
    rows[Import] += _import_rows(plan, written, stamp)
    cells = {}
    for ligne, colonne, texte in plan.cellules:
        cells[(ligne, colonne)] = pk = next(ids[CelluleSource])
        rows[CelluleSource].append((pk, written.table_import.pk, ligne, colonne, texte))
    parents = None  # the ids of the level above (the diagnostic's, for its piliers)
    for model, attribute, colonne in LEVELS:
        level = written.ids[model] = []
        for node in getattr(plan, attribute):
            level.append(pk := next(ids[model]))
            rows[model].append(
                (
                    pk,
                    stamp,
                    stamp,
                    1,
                    lignee(),
                    None,  # origine: a first edition's rows are copies of nothing
                    node.libelle,
                    normalize_key(node.libelle),
                    cells[(node.ligne, colonne)],
                    diagnostic if parents is None else parents[node.parent],
                    node.rang,
                    *(() if parents is None else (diagnostic,)),  # piliers have it above
                )
            )
        parents = level
    themes, sous_themes = written.ids[Theme], written.ids[SousTheme]
    for model, attribute, colonne in ITEMS:
        level = written.ids[model] = []
        for item in getattr(plan, attribute):
            level.append(pk := next(ids[model]))
            row = (
                pk,
                stamp,
                stamp,
                1,
                lignee(),
                None,
                None if item.theme is None else themes[item.theme],
                None if item.sous_theme is None else sous_themes[item.sous_theme],
                item.libelle,
                fingerprint(item.libelle),
                item.position,
                cells[(item.ligne, colonne)],
                diagnostic,
            )
            if model is Indicateur:
                row += tuple(item.informations[name] for name in INFORMATIONS)
                _measure_rows(rows[Mesure], item, pk, quartiers, stamp)
            rows[model].append(row)
            links[model] += [(pk, quartiers[index]) for index in item.quartiers]
    return written


def _import_rows(plan, written, stamp):
    """The two imports a diagnostic would come from: its table, then its measures."""
    table, measures = plan.tableau.encode(), _measures_file(plan)
    counts = {
        "pilier": len(plan.piliers),
        "theme": len(plan.themes),
        "sous_theme": len(plan.sous_themes),
        "difficulte": len(plan.difficultes),
        "indicateur": len(plan.indicateurs),
    }
    table_report = {
        "counts": {key: {"created": value, "unchanged": 0} for key, value in counts.items()},
        "warnings": [],
    }
    measures_report = {
        "format": "long",
        "counts": {"created": plan.mesures, "updated": 0, "unchanged": 0},
        "warnings": [],
    }
    files = (
        (written.table_import, Import.Nature.DIAGNOSTIC, table, table_report),
        (written.measures_import, Import.Nature.MESURES, measures, measures_report),
    )
    return [
        (
            written_by.pk,
            nature,
            written.diagnostic,
            written_by.nom_fichier,
            hashlib.sha256(content).hexdigest(),
            len(content),
            None,
            stamp,
            json.dumps(report),
            None,
            None,
        )
        for written_by, nature, content, report in files
    ]


def _write_history(writer, written, stamp, measures_history):
    """The creation rows of one diagnostic's history, as its imports would write them."""
    table = written.table_import
    writer.copy_history(Contrat, "id = %s", [written.contrat], stamp, reason=CONTRAT_REASON)
    writer.copy_history(Diagnostic, "id = %s", [written.diagnostic], stamp, table)
    for model, _, _ in LEVELS + ITEMS:
        writer.copy_history(model, f"id IN ({_ids(written.ids[model])})", [], stamp, table)
    for model, _, _ in ITEMS:
        writer.copy_m2m_history(model, written.ids[model])
    if measures_history:
        writer.copy_history(
            Mesure,
            f"indicateur_id IN ({_ids(written.ids[Indicateur])})",
            [],
            stamp,
            written.measures_import,
        )


def _owner_column(model):
    """The column of a quartiers M2M table naming its owner: difficulte_id, indicateur_id…"""
    return _through(model)._meta.get_field(model._meta.model_name).column


@dataclass
class _ImportRef:
    """Stands for an Import record in `import_change_reason` (its number and file name)."""

    pk: int
    nom_fichier: str


def _measure_rows(rows, item, indicateur, quartiers, stamp):
    texte = item.informations["type"] == Indicateur.Type.QUALITATIF
    for index, values in item.series:
        quartier = None if index is TERRITOIRE else quartiers[index]
        for annee, value in zip(ANNEES, values, strict=True):
            rows.append(
                (
                    stamp,
                    stamp,
                    1,
                    indicateur,
                    annee,
                    "annee",
                    0,
                    quartier,
                    None if texte else value,
                    value if texte else "",
                    SOURCE,
                    "",
                    None,
                    True,
                    "valeur",
                    None,
                    None,
                    None,
                )
            )
    for nature, annee, value in item.reperes:
        rows.append(
            (stamp, stamp, 1, indicateur, annee, "annee", 0, None, value, "", SOURCE, "", None)
            + (True, nature, None, None, None)
        )


def _measures_file(plan):
    """The measures as the CSV file an import would have read (its size and fingerprint)."""
    lines = ["Indicateur;Quartier;Année;Valeur"]
    for item in plan.indicateurs:
        for index, values in item.series:
            where = "Ensemble du territoire" if index is TERRITOIRE else plan.quartiers[index][1]
            lines += [
                f"{item.libelle};{where};{a};{v}" for a, v in zip(ANNEES, values, strict=True)
            ]
    return "\n".join(lines).encode()


# Removal ----------------------------------------------------------------------------------


def remove(above_number=0, using=DEFAULT_DB_ALIAS):
    """Delete the synthetic diagnostics and contracts numbered above `above_number` (all by
    default), with every edition of those contracts, everything in them, their history and
    their quartiers; nothing else. One transaction.

    Quartiers still used by another diagnostic, an item or a measure (someone attached one
    elsewhere) are kept. Returns the counts removed by kind ("diagnostics": every edition
    removed, the synthetic diagnostics and any edition started from one).
    """
    with transaction.atomic(using=using):
        if above_number:
            counts = _remove_numbers(lambda n: n > above_number, using)
        else:  # all of them: by subqueries
            contrats = synthetic_contrats().using(using)
            diagnostics = Diagnostic.objects.using(using).filter(
                Q(slug__regex=SLUG.pattern) | Q(contrat__in=contrats.values("pk"))
            )
            counts = _remove_diagnostics(diagnostics, contrats, using)
        counts["quartiers"], counts["quartiers_conserves"] = _remove_quartiers(
            quartiers_count(above_number), using
        )
    return counts


def remove_editions(diagnostics, using=DEFAULT_DB_ALIAS):
    """Delete these diagnostics (editions, e.g. started by bench/editions.py) with
    everything in them and their history, not their contracts nor their quartiers; raw
    deletes, in one transaction. Returns the counts removed by kind."""
    with transaction.atomic(using=using):
        return _remove_diagnostics(diagnostics.using(using), None, using)


def _remove_numbers(selected, using):
    """Delete the synthetic diagnostics and contracts whose number is `selected(n)` (a few,
    usually: by their ids), with every edition of those contracts (the caller's
    transaction). Their quartiers stay."""
    contrats = [
        pk
        for pk, slug in synthetic_contrats().using(using).values_list("pk", "slug")
        if selected(number_of(slug))
    ]
    ids = [
        pk
        for pk, slug in synthetic_diagnostics().using(using).values_list("pk", "slug")
        if selected(number_of(slug))
    ]
    ids += Diagnostic.objects.using(using).filter(contrat__in=contrats).values_list("pk", flat=True)
    diagnostics = Diagnostic.objects.using(using).filter(pk__in=set(ids))
    return _remove_diagnostics(
        diagnostics, Contrat.objects.using(using).filter(pk__in=contrats), using
    )


def _remove_diagnostics(diagnostics, contrats, using):
    """Raw deletes, children first (Django's collector would load every row and write a
    '-' history row for each); each statement selects its rows with subqueries. The
    contracts (a queryset, or None: none) go last, with their history, their members and
    their invitations."""
    counts = {"diagnostics": diagnostics.count(), "mesures": 0, "contrats": 0}
    if not counts["diagnostics"] and (contrats is None or not contrats.exists()):
        return counts
    ids = diagnostics.values("pk")
    piliers = Pilier.objects.using(using).filter(diagnostic__in=diagnostics).values("pk")
    themes = Theme.objects.using(using).filter(pilier__in=piliers).values("pk")
    sous_themes = SousTheme.objects.using(using).filter(theme__in=themes).values("pk")
    imports = Import.objects.using(using).filter(diagnostic__in=diagnostics)
    cells = CelluleSource.objects.using(using).filter(import_source__in=imports.values("pk"))

    def delete(queryset):
        return queryset._raw_delete(using)

    items = {
        model: model.objects.using(using)
        .filter(Q(theme__in=themes) | Q(sous_theme__in=sous_themes))
        .values("pk")
        for model in (Difficulte, Indicateur)
    }
    delete(Mesure.history.model.objects.using(using).filter(indicateur_id__in=items[Indicateur]))
    counts["mesures"] = delete(Mesure.objects.using(using).filter(indicateur__in=items[Indicateur]))
    # What SET_NULL would do for rows outside these diagnostics (normally none): copies
    # of their items and editions started from them, in a contract kept.
    for model, selected in (
        (Pilier, piliers),
        (Theme, themes),
        (SousTheme, sous_themes),
        *items.items(),
    ):
        model.objects.using(using).filter(origine__in=selected).exclude(pk__in=selected).update(
            origine=None
        )
    Diagnostic.objects.using(using).filter(precedente__in=ids).exclude(pk__in=ids).update(
        precedente=None
    )
    for model, selected in items.items():
        name = model._meta.model_name
        delete(_m2m_history(model).objects.using(using).filter(**{f"{name}_id__in": selected}))
        delete(
            model.history.model.objects.using(using).filter(
                Q(id__in=selected) | Q(theme_id__in=themes) | Q(sous_theme_id__in=sous_themes)
            )
        )
        delete(_through(model).objects.using(using).filter(**{f"{name}__in": selected}))
        delete(model.objects.using(using).filter(pk__in=selected))
    for model, parent, queryset in (
        (SousTheme, "theme_id", sous_themes),
        (Theme, "pilier_id", themes),
        (Pilier, "diagnostic_id", piliers),
    ):
        parents = {"theme_id": themes, "pilier_id": piliers, "diagnostic_id": ids}[parent]
        delete(
            model.history.model.objects.using(using).filter(
                Q(id__in=queryset) | Q(**{f"{parent}__in": parents})
            )
        )
        delete(model.objects.using(using).filter(pk__in=queryset))
    # What cascades would do for rows outside these diagnostics (normally none).
    for model in (Pilier, Theme, SousTheme, Difficulte, Indicateur):
        model.objects.using(using).filter(source__in=cells.values("pk")).update(source=None)
    delete(cells)
    ImportEnAttente.objects.using(using).filter(import_enregistre__in=imports.values("pk")).update(
        import_enregistre=None
    )
    delete(ImportEnAttente.objects.using(using).filter(diagnostic__in=diagnostics))
    delete(imports)
    delete(Suppression.objects.using(using).filter(diagnostic__in=ids))  # deletions made there
    delete(_through(Diagnostic).objects.using(using).filter(diagnostic__in=ids))
    delete(Diagnostic.history.model.objects.using(using).filter(id__in=ids))
    delete(Diagnostic.objects.using(using).filter(pk__in=ids))
    if contrats is not None:
        # Who took part in them (a bench or someone gave roles there): memberships,
        # invitations and the memberships' history.
        contrat_ids = contrats.values("pk")
        delete(Membre.history.model.objects.using(using).filter(contrat_id__in=contrat_ids))
        delete(Membre.objects.using(using).filter(contrat__in=contrat_ids))
        delete(Invitation.objects.using(using).filter(contrat__in=contrat_ids))
        delete(Contrat.history.model.objects.using(using).filter(id__in=contrats.values("pk")))
        counts["contrats"] = delete(
            Contrat.objects.using(using).filter(pk__in=contrats.values("pk"))
        )
    return counts


def _remove_quartiers(keep, using):
    """Delete the synthetic quartiers numbered above `keep` that nothing uses any more;
    returns (deleted, kept because still used)."""
    candidates = [
        pk
        for pk, code in synthetic_quartiers().using(using).values_list("pk", "code")
        if quartier_number(code) > keep
    ]
    if not candidates:
        return 0, 0
    quartiers = Quartier.objects.using(using).filter(pk__in=candidates)
    used = set(
        quartiers.filter(
            Q(mesures__isnull=False)
            | Q(diagnostics__isnull=False)
            | Q(difficultes__isnull=False)
            | Q(indicateurs__isnull=False)
        ).values_list("pk", flat=True)
    )
    unused = quartiers.exclude(pk__in=used)
    Quartier.communes.through.objects.using(using).filter(
        quartier__in=unused.values("pk")
    )._raw_delete(using)
    deleted = unused._raw_delete(using)
    orphans = Commune.objects.using(using).filter(
        code__regex=COMMUNE_CODE.pattern, quartiers__isnull=True
    )
    Commune.objects.using(using).filter(
        pk__in=list(orphans.values_list("pk", flat=True))
    )._raw_delete(using)
    return deleted, len(used)
