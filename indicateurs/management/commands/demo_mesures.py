"""Fictitious measures for the demonstration, so that the charts are not empty.

A few indicators of Montluçon's seed get invented values over 2019–2024, for the whole
territory and each of the three QPV, invented information (type, unit, direction) when
nobody has filled it in yet, and invented references and targets for the territory and
some quartiers (Bien-Assis has no target of its own for the first one: its status says
so). Every measure written is marked
`fictive` and its source says "Données fictives de démonstration": every page that shows
one says so. Refused when DEBUG is off: these values are never loaded outside the
demonstration. `--retirer` deletes them (allowed everywhere).

Safe to run again: values are written once per indicator, period and series; a measure
entered by someone (not fictitious) is never replaced.
"""

from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from diagnostics.models import Diagnostic
from indicateurs.models import Indicateur, Mesure

SOURCE = "Données fictives de démonstration"
ANNEES = range(2019, 2025)
TERRITOIRE = None
RIVE_GAUCHE, FONTBOUILLANT, BIEN_ASSIS = "QN00304M", "QN00305M", "QN00306M"

# (start of the libellé, information, {series: values 2019–2024} or {series: {year: text}})
INDICATEURS = [
    (
        "Nombre de personne sans permis de conduire",
        {
            "type": Indicateur.Type.QUANTITATIF,
            "unite": "personnes",
            "compte_des_personnes": True,
            "source_donnees": "Ville",
            "periodicite": Indicateur.Periodicite.ANNUELLE,
            "sens_souhaite": Indicateur.Sens.BAISSE,
        },
        {
            TERRITOIRE: (420, 412, 399, 388, 371, 362),
            RIVE_GAUCHE: (165, 161, 158, 150, 146, 139),
            FONTBOUILLANT: (98, 97, 92, 91, 84, 83),
            BIEN_ASSIS: (157, 154, 149, 147, 141, 140),
        },
    ),
    (
        "Nombre de jeunes intégrant le programme Booster",
        {
            "type": Indicateur.Type.QUANTITATIF,
            "unite": "jeunes",
            "compte_des_personnes": True,
            "source_donnees": "Mission locale",
            "periodicite": Indicateur.Periodicite.ANNUELLE,
            "sens_souhaite": Indicateur.Sens.HAUSSE,
        },
        {
            TERRITOIRE: (8, 11, 14, 12, 17, 21),
            RIVE_GAUCHE: (3, 4, 6, 5, 7, 9),
            FONTBOUILLANT: (2, 3, 3, 4, 5, 6),
            BIEN_ASSIS: (3, 4, 5, 3, 5, 6),
        },
    ),
    (
        "Nombre de personne très éloignées de l'emploi",
        {
            "type": Indicateur.Type.QUANTITATIF,
            "unite": "personnes",
            "compte_des_personnes": True,
            "source_donnees": "France Travail",
            "periodicite": Indicateur.Periodicite.ANNUELLE,
            "sens_souhaite": Indicateur.Sens.BAISSE,
        },
        {
            TERRITOIRE: (1250, 1302, 1236, 1198, 1175, 1190),
            RIVE_GAUCHE: (452, 470, 441, 430, 418, 425),
            FONTBOUILLANT: (318, 335, 322, 305, 300, 309),
            BIEN_ASSIS: (480, 497, 473, 463, 457, 456),
        },
    ),
    (
        "Plaintes des riverains",
        {
            "type": Indicateur.Type.QUANTITATIF,
            "unite": "plaintes",
            "source_donnees": "Ville",
            "periodicite": Indicateur.Periodicite.ANNUELLE,
            "sens_souhaite": Indicateur.Sens.BAISSE,
        },
        {
            TERRITOIRE: (64, 71, 58, 66, 52, 49),
            RIVE_GAUCHE: (27, 30, 22, 29, 21, 18),
            FONTBOUILLANT: (15, 18, 16, 14, 12, 13),
            BIEN_ASSIS: (22, 23, 20, 23, 19, 18),
        },
    ),
    (
        "Sentiment d'isolement",
        {
            "type": Indicateur.Type.QUALITATIF,
            "source_donnees": "Conseils citoyens",
            "periodicite": Indicateur.Periodicite.PONCTUELLE,
        },
        {
            TERRITOIRE: {
                2021: "Isolement marqué des personnes âgées après la crise sanitaire.",
                2023: "Les habitants citent davantage les lieux de rencontre du quartier.",
            },
            RIVE_GAUCHE: {
                2022: "Les familles monoparentales se disent isolées, faute de garde.",
                2024: "Le café associatif est cité comme un lieu de lien social.",
            },
        },
    ),
]


# References and targets: {start of the libellé: {series: ((nature, year, value), …)}}.
REPERES = {
    "Nombre de personne sans permis de conduire": {
        TERRITOIRE: (("reference", 2019, 420), ("cible", 2030, 300)),
        RIVE_GAUCHE: (("reference", 2019, 165), ("cible", 2030, 120)),
        FONTBOUILLANT: (("reference", 2019, 98), ("cible", 2030, 70)),
    },
    "Nombre de jeunes intégrant le programme Booster": {
        TERRITOIRE: (("reference", 2019, 8), ("cible", 2030, 30)),
        RIVE_GAUCHE: (("cible", 2030, 12),),
        FONTBOUILLANT: (("cible", 2030, 8),),
        BIEN_ASSIS: (("cible", 2030, 10),),
    },
    "Nombre de personne très éloignées de l'emploi": {
        TERRITOIRE: (("reference", 2019, 1250), ("cible", 2030, 1000)),
        RIVE_GAUCHE: (("reference", 2019, 452), ("cible", 2030, 380)),
        FONTBOUILLANT: (("reference", 2019, 318), ("cible", 2030, 250)),
        BIEN_ASSIS: (("reference", 2019, 480), ("cible", 2030, 400)),
    },
    "Plaintes des riverains": {
        TERRITOIRE: (("reference", 2019, 64), ("cible", 2030, 50)),
    },
}


class Command(BaseCommand):
    help = (
        "Charge des valeurs fictives d'indicateurs pour la démonstration (DEBUG activé "
        "seulement), ou les retire avec --retirer."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--diagnostic",
            default="montlucon-2024",
            help="Identifiant court du diagnostic (par défaut : montlucon-2024).",
        )
        parser.add_argument(
            "--retirer",
            action="store_true",
            help="Supprime toutes les valeurs fictives de démonstration.",
        )

    def handle(self, *args, diagnostic, retirer=False, **options):
        if retirer:
            deleted, _ = Mesure.objects.filter(fictive=True).delete()
            self.stdout.write(self.style.SUCCESS(f"{deleted} valeur(s) fictive(s) supprimée(s)."))
            return
        if not settings.DEBUG:
            raise CommandError(
                "Les valeurs fictives sont réservées à la démonstration (DEBUG activé) : "
                "elles ne sont jamais chargées en production."
            )
        diagnostic = Diagnostic.objects.filter(slug=diagnostic).first()
        if diagnostic is None:
            raise CommandError("Ce diagnostic n'existe pas : lancez d'abord `manage.py demo`.")
        with transaction.atomic():
            created, indicateurs = self.load(diagnostic)
        self.stdout.write(
            self.style.SUCCESS(
                f"Valeurs fictives de démonstration : {created} créée(s) "
                f"pour {indicateurs} indicateur(s)."
            )
        )

    def load(self, diagnostic):
        quartiers = {q.code: q for q in diagnostic.quartiers.all()}
        items = Indicateur.objects.du_diagnostic(diagnostic)
        created = touched = 0
        for debut, informations, series in INDICATEURS:
            indicateur = items.filter(libelle__startswith=debut).first()
            if indicateur is None:
                self.stderr.write(f"Indicateur absent du diagnostic : « {debut} ».")
                continue
            if indicateur.type == Indicateur.Type.A_PRECISER:
                for name, value in informations.items():
                    setattr(indicateur, name, value)
                indicateur.definition = (
                    "Définition fictive de démonstration : ces informations et ces valeurs "
                    "ont été inventées pour présenter le site."
                )
                indicateur.save()
            qualitatif = isinstance(next(iter(series.values())), dict)
            if (indicateur.type == Indicateur.Type.QUALITATIF) != qualitatif:
                self.stderr.write(f"Type déjà choisi autrement, indicateur ignoré : « {debut} ».")
                continue
            touched += 1
            for code, values in series.items():
                quartier = quartiers.get(code) if code else None
                if code and quartier is None:
                    continue
                if isinstance(values, dict):
                    entries = [(annee, None, texte) for annee, texte in values.items()]
                else:
                    numbers = zip(ANNEES, values, strict=True)
                    entries = [(annee, Decimal(v), "") for annee, v in numbers]
                for annee, valeur, texte in entries:
                    created += self.write(indicateur, quartier, annee, valeur, texte)
                for nature, annee, valeur in REPERES.get(debut, {}).get(code, ()):
                    created += self.write(indicateur, quartier, annee, Decimal(valeur), "", nature)
        return created, touched

    def write(self, indicateur, quartier, annee, valeur, texte, nature=Mesure.Nature.VALEUR):
        """Writes one fictitious measure unless the key is taken (for a reference or a
        target: unless its scope has one); 1 if created."""
        key = {"indicateur": indicateur, "quartier": quartier, "nature": nature}
        if nature == Mesure.Nature.VALEUR:
            key.update(annee=annee, type_periode=Mesure.TypePeriode.ANNEE, numero_periode=0)
        if Mesure.objects.filter(**key).exists():
            return 0
        key.update(annee=annee, type_periode=Mesure.TypePeriode.ANNEE, numero_periode=0)
        mesure = Mesure(**key, valeur=valeur, texte=texte, source=SOURCE, fictive=True)
        mesure.full_clean()
        mesure.save()
        return 1
