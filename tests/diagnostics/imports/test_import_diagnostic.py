"""Importing source tables into a diagnostic: the seed, idempotency, atomicity, provenance."""

import hashlib
from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command
from openpyxl import Workbook

from diagnostics.imports import import_source_table
from diagnostics.imports.cells import split_items
from diagnostics.models import (
    CelluleSource,
    Diagnostic,
    Difficulte,
    Import,
    Pilier,
    SousTheme,
    Theme,
)
from indicateurs.models import Indicateur
from tests.conftest import SEED
from tests.factories import DiagnosticFactory

MODELS = (Diagnostic, Pilier, Theme, SousTheme, Difficulte, Indicateur, Import, CelluleSource)

# The seed as the diagnostic must hold it, written out from the file. For each pilier
# (numéro, libellé): its thèmes in order, each as (libellé, difficultés and indicateurs
# at the thème's level, sous-thèmes in order as (libellé, difficultés, indicateurs)).
SEED_DIAGNOSTIC = [
    (
        (1, "COHESION SOCIALE"),
        [
            (
                "Éducation",
                [],
                [],
                [
                    (
                        "Programme de Réussite Éducative",
                        [
                            "Difficulté à coordonner l'accompagnement de l'enfant avec un "
                            "accompagnement familial.",
                            "Manque de visibilité concernant la prise en charge des pédagogies "
                            "alternatives.",
                        ],
                        [],
                    ),
                    (
                        "Actions en lien avec la scolarité de l'enfant",
                        [
                            "Constat d'un besoin sur des actions complémentaires à l'instruction "
                            "dont les thématiques à aborder peuvent être ateliers coopératifs "
                            "autour du mieux vivre ensemble, le harcèlement scolaire & en ligne, "
                            "les dangers du numérique, les discriminations, etc.",
                            "Contrat Local d'Accompagnement à la scolarité : encore trop "
                            "d'inégalités des chances dans la scolarité des enfants, pas assez de "
                            "cohésion sociale, difficulté de vivre ensemble notamment de l'absence "
                            "de brassage communautaire, absentéisme, turn-over des populations, "
                            "difficultés à mobiliser les familles sur les actions depuis la crise "
                            "sanitaire",
                            "Étude surveillée : Zola (47 inscrits) + Mistral (27 inscrits) – "
                            "animateurs non formés sur la méthodologie pour faire les devoirs aux "
                            "enfants qui peuvent multiplier les difficultés scolaires",
                            "1 animateur pour 10 enfants avec des niveaux différents",
                        ],
                        [
                            "Nombre d'interventions",
                            "Nombre d'animateurs",
                            "Exigence des parents",
                            "Quantité de devoirs",
                        ],
                    ),
                    (
                        "Lutte contre le décrochage, accès à des études supérieures et formation "
                        "de qualité",
                        [
                            "Un grand nombre de jeunes entre 16 et 25 ans sont en situation de "
                            "décrochage scolaire."
                        ],
                        [
                            "Nombre de jeunes intégrant le programme Booster (alternance Service "
                            "Civique, raccrochage scolaire) : pour des 16-17 ans --> raccrochage / "
                            "aide à l'orientation / confiance en soi et développement de "
                            "compétences"
                        ],
                    ),
                ],
            ),
            (
                "Parentalité et droits sociaux",
                [],
                [],
                [
                    (
                        "Soutien à la parentalité",
                        [
                            "Investissement moyen de la part des parents dans l'organisation "
                            "d'animations. Cela peut dépendre néanmoins de la thématique.",
                            "Difficulté à lire et comprendre les informations écrites transmises "
                            "dans le cadre des accueils de loisirs (autorisation date des "
                            "animation etc.)",
                            "Les actions de soutien à la parentalité doivent se renforcer "
                            "notamment sur l'accompagnement du rôle parental, les loisirs "
                            "enfant/parent, le lien école/famille.",
                        ],
                        [],
                    ),
                    (
                        "Droits sociaux",
                        [
                            "Difficultés dans la dématérialisation des services / se repérer "
                            "parmi les professionnels"
                        ],
                        [],
                    ),
                ],
            ),
            (
                "Culture et expression artistique",
                [],
                [],
                [
                    (
                        "Diffusion culturelle",
                        [
                            "Besoin de connaître des cultures variées à travers un moment de "
                            "convivialité, développant le lien social, et l'acceptation des "
                            "autres.",
                            "Difficultés d'accès aux activités culturelles",
                            "Difficulté d'ouvrir les références culturelles d'un public non "
                            "averti.",
                        ],
                        [
                            "Le nombre de participants, satisfaction des participants, ouverture "
                            "sur le monde"
                        ],
                    ),
                    ("Médias de proximité et audiovisuel", [], []),
                ],
            ),
            (
                "Santé",
                [],
                [],
                [
                    (
                        "Éducation à la santé et prévention",
                        [
                            "Montée des conduites addictives pour 11 - 15 ans notamment le "
                            "protoxyde d'azote",
                            "Pas d'action de prévention santé mené au sein des QPV",
                            "Besoins de mettre en place des actions de sensibilisation en "
                            "prévention santé : demande de la part des enseignants de l'école "
                            "maternelle Voltaire pour sensibiliser les jeunes enfants à l'hygiène "
                            "bucco-dentaire et l'alimentation équilibrée.",
                            "Sollicitation de la part d'une étudiante (BTS en économie sociale et "
                            "familiale) pour développer des actions sur l'hygiène de vie (hygiène "
                            "corporelle, alimentation, cadre de vie..) suite à des observations "
                            "au sein notamment de Pierre Leroux.",
                            "Mauvais taux de participation aux dépistages organisés à la détection "
                            "des cancers",
                            "Tabagisme et consommation abusive d'alcool et de substances",
                            "Maladies cardio-vasculaires",
                            "Précarité de la population",
                            # A lead-in ("…, notamment") and its examples: one item.
                            "Violences intrafamiliales Des actions sont mises en place par des "
                            "opérateurs et financées par l'ARS, notamment le dispositif "
                            "d'accompagnement vers la pratique physique (atelier passerelle sur "
                            "Montluçon) ; l'intervention d'Addiction France ; l'action de "
                            "l'association Alcool Ecoute Joie et Santé ; Intervention de l'IREPS "
                            "(Institut Régional Education à la Santé)",
                        ],
                        ["20/30 jeunes QPV repérés"],
                    ),
                    ("Accès aux soins", [], []),
                ],
            ),
            (
                "Jeunesse",
                [
                    "Déficit des besoins en terme de prévention pour les pré-ados 11-14 ans / "
                    "travaille sur codes sociaux / violences banalisées / non adhésion aux "
                    "structures / ennui",
                    "Présence de jeunes adultes (qui travaillent) mais qui souhaitent se divertir "
                    "en fin de journée en se rendant dans les accueils de jeunes mais peu "
                    "d'émergence de projets avec des jeunes, qui ne se responsabilisent pas.",
                ],
                [],
                [
                    (
                        "Soutenir l'initiative associative",
                        [
                            "Nécessité de susciter une dynamique de création de structures "
                            "associatives dans une logique d'animation de vie sociale notamment "
                            "sur le quartier de la Verrerie.",
                            "Association du quartier fragilisé avec une difficulté de recrutement "
                            "des bénévoles.",
                        ],
                        [],
                    ),
                    ("Actions de médiation", [], []),
                    (
                        "Accès à la citoyenneté",
                        ["Désengagement des jeunes sur les questions de citoyenneté."],
                        [],
                    ),
                    (
                        "Participation des habitants",
                        [
                            "peu d'initiative citoyenne et peu d'espace de recueil de la parole "
                            "du public concerné."
                        ],
                        [],
                    ),
                ],
            ),
            (
                "Lien social, citoyenneté et Participation des habitants",
                [],
                [],
                [
                    (
                        "Sports et loisirs",
                        [
                            "Isolement des familles notamment monoparentales, peu d'accès aux "
                            "loisirs, peu de moyen financier pour y accéder, peu de départ en "
                            "vacances.",
                            "Peu d'actions ciblées par les clubs sportifs de la ville sur les QPV "
                            "– les clubs n'ont pas le « réflexe » QPV. Nécessité de les inciter "
                            "sur cette géographie prioritaire. Enjeux de pédagogie, "
                            "d'ingénierie, de financement spécifique, et de captation de ce "
                            "public spécifique.",
                            "Pas de prise en compte spécifique du public QPV dans une logique "
                            "d'accessibilité (exemple aide à la prise de licence, mise en place "
                            "de transports ad hoc)",
                            "peu de jeunes licenciés dans les clubs sportifs",
                            "difficulté sur le financement de l'adhésion au sein des structures "
                            "d'accueil en QPV",
                        ],
                        [
                            "Nombre de participants",
                            "Sentiment d'isolement",
                            "Nombre d'action sport ou loisir",
                        ],
                    ),
                    (
                        "Connaissance des droits, soutien juridique et accès aux services publics",
                        [],
                        [],
                    ),
                    (
                        "Solidarité",
                        [
                            "Besoin d'un renforcement de la présence des associations solidaires "
                            "au sein des quartiers."
                        ],
                        [],
                    ),
                ],
            ),
            (
                "Prévention et lutte Contre les discriminations Liées à l'origine et à l'adresse",
                [],
                [],
                [
                    (
                        "Actions de prévention et de lutte contre les discriminations en "
                        "direction des acteurs décisionnaires",
                        [],
                        [],
                    ),
                    (
                        "Action de prévention des discriminations dans l'accès aux droits et à "
                        "la justice en direction des publics",
                        [],
                        [],
                    ),
                    (
                        "Action de prévention et de lutte contre le racisme, l'antisémitisme et "
                        "le sexisme",
                        [],
                        [],
                    ),
                ],
            ),
        ],
    ),
    (
        (2, "DEVELOPPEMENT ECONOMIQUE ET EMPLOI"),
        [
            (
                "Emploi",
                [],
                [],
                [
                    (
                        "Repérage, accueil, information, accompagnement de 1er niveau",
                        [
                            "Accueil et accompagnement des publics orientés par des structures "
                            "(PRIR, Forum Réfugiés) d'une proportion de personnes ne maîtrisant "
                            "pas la langue française (30 pers sur 200 rencontrées)",
                            "Indications de niveau FLE sur des CV ne correspondant pas au niveau "
                            "réellement maîtrisé ce qui entraîne des difficultés pour informer "
                            "correctement ces personnes en raison de la barrière de la langue "
                            "ainsi que des difficultés d'accès à l'emploi pour certaines d'entre "
                            "elles malgré une réelle expérience professionnelle.",
                        ],
                        ["Nombre de dispositif FLE", "Niveau réel FLE"],
                    ),
                    (
                        "Accompagnement à l'insertion professionnelle",
                        [
                            "La mobilité est un des premiers freins à l'emploi : les solutions "
                            "émergentes proposées sont insuffisantes pour les personnes peu "
                            "qualifiées qui trouveraient un emploi à temps partiel nécessitant des "
                            "déplacements (aide à la personne ou ménage par exemple)"
                        ],
                        ["Nombre de personne sans permis de conduire"],
                    ),
                    (
                        "Mise en relation demandeurs/employeurs",
                        [
                            "Difficulté à mobiliser le public malgré l'information qui lui est "
                            "donnée à l'avance (dont info directe lors de rdv) à l'occasion des "
                            "actions menées en ce sens (rencontres du type P'Tits Déj de l'Emploi "
                            "à thèmes)",
                            "Un certain nombre de personnes repérées en QPV, sont extrêmement "
                            "éloignées de l'emploi malgré les prises en charge dans le cadre de "
                            "l'insertion économique des associations intermédiaires, entreprise "
                            "d'insertion, entreprise de travail temporaire d'insertion.",
                            "Difficulté d'appréhender les codes sociaux et le positionnement "
                            "demandé par les employeurs / difficultés de se présenter / absence "
                            "des pièces administratives",
                            "Les employeurs se mobilisent peu sur les actions, ce sont souvent les "
                            "mêmes mobilisés",
                        ],
                        [
                            "Nombre de personne très éloignées de l'emploi",
                            "Collaboration partenariale lors des job dating avec l'ensemble des "
                            "acteurs",
                        ],
                    ),
                    ("Prévention et lutte contre l'illettrisme", [], []),
                ],
            ),
            ("Développement économique", [], [], [("Appui à la création d'activité", [], [])]),
        ],
    ),
    (
        (3, "CADRE DE VIE ET RENOUVELLEMENT URBAIN"),
        [
            (
                "Cadre de vie et Renouvellement urbain",
                [],
                [],
                [
                    ("Gestion urbaine de proximité", [], []),
                    (
                        "Logement et habitat",
                        [
                            # A lead-in ending with ":": each phrase an item starting with it.
                            "Il serait intéressant d'inciter : à des actions de sensibilisation "
                            "des habitants aux écogestes dans le logement dans le contexte de "
                            "sobriété énergétique et de hausse de la facture énergétique",
                            "Il serait intéressant d'inciter : à la gestion des déchets (tri "
                            "sélectif...).",
                        ],
                        [],
                    ),
                    ("Transport et mobilité", [], []),
                ],
            ),
            (
                "Tranquillité et sûreté publique",
                [
                    "Trafics de stupéfiants se déroulant sur le domaine public, ainsi que dans les "
                    "halls d'entrée des bâtiments relevant de bailleurs ou d'un propriétaire privé"
                ],
                [
                    "Plaintes des riverains",
                    "Occupation du domaine public ou des parties communes",
                    "Nombre de demandes de déménagement de la part des locataires et vacance des "
                    "logements dans les bâtiments concernés",
                ],
                [],
            ),
        ],
    ),
]


def items(queryset):
    return [item.libelle for item in queryset.order_by("position", "id")]


def tree(diagnostic):
    """The diagnostic in the shape of SEED_DIAGNOSTIC, everything in its stored order."""
    return [
        (
            (pilier.numero, pilier.libelle),
            [
                (
                    theme.libelle,
                    items(theme.difficultes),
                    items(theme.indicateurs),
                    [
                        (
                            sous_theme.libelle,
                            items(sous_theme.difficultes),
                            items(sous_theme.indicateurs),
                        )
                        for sous_theme in theme.sous_themes.order_by("position", "id")
                    ],
                )
                for theme in pilier.themes.order_by("position", "id")
            ],
        )
        for pilier in diagnostic.piliers.order_by("numero")
    ]


def snapshot():
    """Every row of every table the import writes to."""
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in MODELS}


def seed_report(diagnostic, **kwargs):
    return import_source_table(diagnostic, SEED.name, SEED.read_bytes(), **kwargs)


def counts(report):
    return {key: (count.created, count.unchanged) for key, count in report.counts.items()}


SEED_COUNTS = {
    "pilier": (3, 0),
    "theme": (11, 0),
    "sous_theme": (27, 0),
    "difficulte": (45, 0),
    "indicateur": (18, 0),
}


# The seed ---------------------------------------------------------------------------------


def test_the_seed_gives_exactly_the_expected_diagnostic(montlucon):
    assert tree(montlucon) == SEED_DIAGNOSTIC


def test_the_seed_report_counts_every_level_and_warns_of_the_shifted_rows():
    report = seed_report(DiagnosticFactory())
    assert report.ok
    assert counts(report) == SEED_COUNTS
    # The two shifted rows, and the two lead-ins kept with their phrases (test_lead_ins).
    assert [line for line, _ in report.warnings] == [11, 13, 14, 33]
    lines = report.as_lines()
    assert lines[:6] == [
        "Import de « diagnostic-montlucon.tsv » enregistré.",
        "Piliers : 3 créés, 0 inchangé",
        "Thèmes : 11 créés, 0 inchangé",
        "Sous-thèmes : 27 créés, 0 inchangé",
        "Difficultés : 45 créées, 0 inchangée",
        "Indicateurs : 18 créés, 0 inchangé",
    ]
    assert lines[6] == "Avertissements :"
    assert lines[7].startswith("  ligne 11 : cellule Difficultés prégnantes : la phrase d'intro")
    assert lines[8].startswith("  ligne 13 : ligne décalée d'une colonne vers la droite")
    assert lines[9].startswith("  ligne 14 : ligne décalée d'une colonne vers la droite")
    assert lines[10].startswith("  ligne 33 : cellule Difficultés prégnantes : la phrase d'intro")


def test_the_shifted_rows_are_repaired(montlucon):
    jeunesse = Theme.objects.get(pilier__diagnostic=montlucon, libelle="Jeunesse")
    assert jeunesse.pilier.numero == 1
    assert [item[:20] for item in items(jeunesse.difficultes)] == [
        "Déficit des besoins ",
        "Présence de jeunes a",
    ]
    initiative = jeunesse.sous_themes.get(libelle="Soutenir l'initiative associative")
    assert [item[:20] for item in items(initiative.difficultes)] == [
        "Nécessité de suscite",
        "Association du quart",
    ]
    assert not SousTheme.objects.filter(libelle="Jeunesse").exists()


def test_an_age_range_stays_whole_in_its_item(montlucon):
    item = Difficulte.objects.du_diagnostic(montlucon).get(libelle__contains="11 - 15 ans")
    assert item.libelle.startswith("Montée des conduites addictives pour 11 - 15 ans")


def test_no_html_nor_superscript_markup_is_stored(montlucon):
    texts = [
        *Pilier.objects.values_list("libelle", flat=True),
        *Theme.objects.values_list("libelle", flat=True),
        *SousTheme.objects.values_list("libelle", flat=True),
        *Difficulte.objects.values_list("libelle", flat=True),
        *Indicateur.objects.values_list("libelle", flat=True),
    ]
    assert len(texts) == 3 + 11 + 27 + 45 + 18
    assert [text for text in texts if "<" in text or "^{" in text] == []


def test_theme_level_items_are_kept(montlucon):
    tranquillite = Theme.objects.get(libelle="Tranquillité et sûreté publique")
    assert tranquillite.sous_themes.count() == 0
    assert len(items(tranquillite.difficultes)) == 1
    assert items(tranquillite.indicateurs)[0] == "Plaintes des riverains"
    assert Difficulte.objects.filter(theme__libelle="Jeunesse", sous_theme=None).count() == 2


def test_a_repeated_theme_is_one_theme(montlucon):
    assert Theme.objects.filter(libelle="Développement économique").count() == 1


# Idempotency, atomicity, dry run ----------------------------------------------------------


def test_importing_the_same_file_twice_changes_nothing(montlucon):
    before = snapshot()
    report = seed_report(montlucon)
    assert snapshot() == before
    assert report.ok
    assert report.import_record is None
    assert counts(report) == {key: (0, created) for key, (created, _) in SEED_COUNTS.items()}
    assert report.as_lines()[:2] == [
        "Aucune modification : tout le contenu de ce fichier est déjà présent.",
        "Piliers : 0 créé, 3 inchangés",
    ]


def test_a_late_row_failing_writes_nothing_at_all():
    long_label = "Sous-thème beaucoup trop long " * 10
    content = SEED.read_bytes() + f"\n\t\t{long_label}\t- Une difficulté\t\n".encode()
    diagnostic = Diagnostic(
        titre="Montluçon",
        slug="montlucon",
        territoire="Montluçon",
        annee_debut=2024,
        annee_fin=2030,
    )
    report = import_source_table(diagnostic, "avec-erreur.tsv", content)
    assert not report.ok
    assert report.errors == [
        (
            36,
            f"sous-thème « {long_label[:59]}… » : libellé : Assurez-vous que cette valeur "
            "comporte au plus 255 caractères (actuellement 299).",
        )
    ]
    assert report.as_lines()[0] == "Fichier « avec-erreur.tsv » refusé : rien n'a été enregistré."
    assert {name: rows for name, rows in snapshot().items() if rows} == {}
    assert diagnostic.pk is None


def test_a_late_row_failing_leaves_an_existing_diagnostic_as_it_was(montlucon):
    before = snapshot()
    content = (
        SEED.read_bytes()
        + "\n4 NOUVEAU PILIER\tNouveau thème\t\t- Nouvelle difficulté\t\n".encode()
        + "\t\tSous-thème\t\t\n".encode()
        + ("\t" + "x" * 256 + "\t\t\t\n").encode()
    )
    report = import_source_table(montlucon, "avec-erreur.tsv", content)
    assert [line for line, _ in report.errors] == [38]
    assert snapshot() == before


def test_a_dry_run_writes_nothing_but_reports_the_same_counts():
    diagnostic = Diagnostic(
        titre="Montluçon",
        slug="montlucon",
        territoire="Montluçon",
        annee_debut=2024,
        annee_fin=2030,
    )
    report = seed_report(diagnostic, dry_run=True)
    assert report.ok
    assert report.dry_run
    assert counts(report) == SEED_COUNTS
    assert report.import_record is None
    assert report.as_lines()[0] == (
        "Simulation de l'import de « diagnostic-montlucon.tsv » : rien n'a été enregistré."
    )
    assert {name: rows for name, rows in snapshot().items() if rows} == {}
    assert diagnostic.pk is None


# Provenance and later imports -------------------------------------------------------------


def test_each_created_row_records_its_source_cell():
    user = get_user_model().objects.create(username="import")
    diagnostic = DiagnosticFactory()
    report = seed_report(diagnostic, user=user)
    record = report.import_record
    assert record == Import.objects.get()
    assert (record.diagnostic, record.nom_fichier, record.importe_par) == (
        diagnostic,
        "diagnostic-montlucon.tsv",
        user,
    )
    assert record.sha256 == hashlib.sha256(SEED.read_bytes()).hexdigest()
    assert record.taille == SEED.stat().st_size
    assert record.compte_rendu["counts"]["difficulte"] == {"created": 45, "unchanged": 0}
    assert [warning["line"] for warning in record.compte_rendu["warnings"]] == [11, 13, 14, 33]

    indicateur = Indicateur.objects.get(libelle="Nombre de personne sans permis de conduire")
    source = indicateur.source
    assert (source.import_source, source.ligne, source.colonne, source.texte) == (
        record,
        27,
        CelluleSource.Colonne.INDICATEURS,
        "- Nombre de personne sans permis de conduire",
    )
    # Items split from one cell share its source.
    sante = SousTheme.objects.get(libelle="Éducation à la santé et prévention")
    sources = {item.source for item in sante.difficultes.all()}
    assert len(sources) == 1
    assert sources.pop().texte.startswith("- Montée des conduites addictives pour 11 - 15 ans")
    # A shifted row's cells are recorded under the column they were moved to.
    jeunesse = Theme.objects.get(libelle="Jeunesse")
    assert (jeunesse.source.ligne, jeunesse.source.colonne, jeunesse.source.texte) == (
        13,
        CelluleSource.Colonne.THEME,
        "Jeunesse",
    )
    deficit = jeunesse.difficultes.first().source
    assert (deficit.ligne, deficit.colonne) == (13, CelluleSource.Colonne.DIFFICULTES)
    assert deficit.texte.startswith("- Déficit des besoins")
    pilier = Pilier.objects.get(numero=2)
    assert (pilier.source.ligne, pilier.source.texte) == (
        26,
        "2 DEVELOPPEMENT ECONOMIQUE ET EMPLOI",
    )
    # Every row created has a source, and every item comes from its source cell's text.
    for model in (Pilier, Theme, SousTheme, Difficulte, Indicateur):
        assert not model.objects.filter(source=None).exists()
    for model in (Difficulte, Indicateur):
        for item in model.objects.select_related("source"):
            assert item.source.import_source_id == record.pk
            assert item.libelle in split_items(item.source.texte)


def test_a_new_import_adds_after_what_exists_and_never_overwrites(montlucon):
    sante = Theme.objects.get(libelle="Santé")
    sante.position = 99
    sante.save()
    soins = sante.sous_themes.get(libelle="Accès aux soins")
    soins.libelle = "ACCÈS AUX SOINS"
    soins.save()
    content = "\n".join(
        [
            "Pilier\tThème\tSous-thème\tDifficultés prégnantes\tIndicateur",
            "1 COHESION SOCIALE\tSanté\tAccès aux soins\t- Délais de rendez-vous\t",
            "\t\tSanté mentale\t- Isolement\t",
            "Cadre de vie et renouvellement urbain\tTranquillité et sûreté publique\t\t"
            "- Rodéos urbains\t",
            "Transition écologique\tÉnergie\t\t\t",
        ]
    ).encode()
    report = import_source_table(montlucon, "complement.tsv", content)
    assert report.ok, report.as_lines()
    assert counts(report) == {
        "pilier": (1, 2),
        "theme": (1, 2),
        "sous_theme": (1, 1),
        "difficulte": (3, 0),
        "indicateur": (0, 0),
    }
    sante.refresh_from_db()
    soins.refresh_from_db()
    assert (sante.position, soins.libelle) == (99, "ACCÈS AUX SOINS")
    assert [(s.libelle, s.position) for s in sante.sous_themes.order_by("position")] == [
        ("Éducation à la santé et prévention", 1),
        ("ACCÈS AUX SOINS", 2),
        ("Santé mentale", 3),
    ]
    assert items(soins.difficultes) == ["Délais de rendez-vous"]
    tranquillite = Theme.objects.get(libelle="Tranquillité et sûreté publique")
    assert items(tranquillite.difficultes)[-1] == "Rodéos urbains"
    assert tranquillite.difficultes.get(libelle="Rodéos urbains").position == 2
    # A pilier named without a number takes the next free one.
    assert montlucon.piliers.get(numero=4).libelle == "Transition écologique"
    assert Import.objects.filter(diagnostic=montlucon).count() == 2


def test_an_item_repeated_under_one_parent_is_added_once():
    content = "\n".join(
        [
            "Pilier\tThème\tSous-thème\tDifficultés prégnantes\tIndicateur",
            "1 Emploi\tInsertion\tMobilité\t- Pas de permis - PAS DE PERMIS\t",
            "\t\tMobilité\t- Pas de  permis - Pas de bus\t",
            "\t\t\t- Pas de permis\t",
        ]
    ).encode()
    report = import_source_table(DiagnosticFactory(), "doublons.tsv", content)
    assert counts(report)["difficulte"] == (3, 0)
    mobilite = SousTheme.objects.get()
    assert items(mobilite.difficultes) == ["Pas de permis", "Pas de bus"]
    assert items(mobilite.theme.difficultes) == ["Pas de permis"]


def test_an_xlsx_file_is_imported(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Axe", "Thématique", "Sous-thématique", "Difficultés", "Indicateurs"])
    sheet.append(["Axe 1 – Emploi", "Insertion", "Mobilité", "- Pas de permis\n- Pas de bus", None])
    sheet.append([None, None, None, "Horaires décalés", None])
    sheet.merge_cells("A2:A3")
    sheet.merge_cells("B2:B3")
    path = tmp_path / "diagnostic.xlsx"
    workbook.save(path)
    report = import_source_table(DiagnosticFactory(), path.name, path.read_bytes())
    assert report.ok, report.as_lines()
    insertion = Theme.objects.get()
    assert (insertion.pilier.numero, insertion.pilier.libelle) == (1, "Emploi")
    assert items(insertion.difficultes) == ["Horaires décalés"]
    assert items(insertion.sous_themes.get().difficultes) == ["Pas de permis", "Pas de bus"]


# The command ------------------------------------------------------------------------------


def test_the_command_creates_the_diagnostic_and_prints_the_report():
    out = StringIO()
    call_command(
        "import_diagnostic",
        str(SEED),
        "--diagnostic",
        "montlucon",
        "--territoire",
        "Montluçon Communauté",
        stdout=out,
    )
    lines = out.getvalue().splitlines()
    assert lines[:7] == [
        "Diagnostic « Diagnostic montlucon » (montlucon) créé.",
        "Import de « diagnostic-montlucon.tsv » enregistré.",
        "Piliers : 3 créés, 0 inchangé",
        "Thèmes : 11 créés, 0 inchangé",
        "Sous-thèmes : 27 créés, 0 inchangé",
        "Difficultés : 45 créées, 0 inchangée",
        "Indicateurs : 18 créés, 0 inchangé",
    ]
    assert lines[7:] == [
        "Avertissements :",
        "  ligne 11 : cellule Difficultés prégnantes : la phrase d'introduction « Violences "
        "intrafamiliales Des actions sont mises en place par des opérateurs et financées… » et "
        "les 4 phrases qu'elle introduit forment un seul élément : vérifiez-le.",
        "  ligne 13 : ligne décalée d'une colonne vers la droite (Pilier vide, liste à puces "
        "sous Indicateur) : remise en place, vérifiez le résultat.",
        "  ligne 14 : ligne décalée d'une colonne vers la droite (Pilier vide, liste à puces "
        "sous Indicateur) : remise en place, vérifiez le résultat.",
        "  ligne 33 : cellule Difficultés prégnantes : la phrase d'introduction « Il serait "
        "intéressant d'inciter : » est reprise au début de chacune des 2 phrases qui la "
        "suivent, une par élément : vérifiez-les.",
    ]
    diagnostic = Diagnostic.objects.get()
    assert (diagnostic.titre, diagnostic.territoire, diagnostic.periode) == (
        "Diagnostic montlucon",
        "Montluçon Communauté",
        "2024–2030",
    )
    assert tree(diagnostic) == SEED_DIAGNOSTIC


def test_the_command_imports_a_windows_1252_csv(tmp_path):
    path = tmp_path / "export-excel.csv"
    path.write_bytes(
        (
            "Pilier;Thème;Sous-thème;Difficultés prégnantes;Indicateur\r\n"
            '1 Cohésion sociale;Éducation;Réussite éducative;"- Difficulté d’accès\r\n'
            '- Absentéisme";Taux d’absentéisme\r\n'
        ).encode("cp1252")
    )
    out = StringIO()
    call_command(
        "import_diagnostic", str(path), "--diagnostic=essai", "--territoire=Montluçon", stdout=out
    )
    assert "Difficultés : 2 créées, 0 inchangée" in out.getvalue().splitlines()
    reussite = SousTheme.objects.get(theme__pilier__diagnostic__slug="essai")
    assert (reussite.theme.libelle, reussite.libelle) == ("Éducation", "Réussite éducative")
    assert items(reussite.difficultes) == ["Difficulté d’accès", "Absentéisme"]
    assert items(reussite.indicateurs) == ["Taux d’absentéisme"]


def test_the_command_takes_the_title_and_years_of_a_new_diagnostic():
    call_command(
        "import_diagnostic",
        str(SEED),
        "--diagnostic=montlucon",
        "--title=Contrat de ville de Montluçon",
        "--territoire=Montluçon Communauté",
        "--annee-debut=2025",
        "--annee-fin=2031",
        stdout=StringIO(),
    )
    diagnostic = Diagnostic.objects.get(slug="montlucon")
    assert (diagnostic.titre, diagnostic.periode) == ("Contrat de ville de Montluçon", "2025–2031")


def test_the_command_on_an_existing_diagnostic_ignores_creation_options(montlucon):
    out = StringIO()
    call_command(
        "import_diagnostic",
        str(SEED),
        "--diagnostic=montlucon",
        "--territoire=Ailleurs",
        stdout=out,
    )
    assert out.getvalue().splitlines()[:2] == [
        "Le diagnostic « montlucon » existe déjà ; options de création ignorées : --territoire.",
        "Aucune modification : tout le contenu de ce fichier est déjà présent.",
    ]
    montlucon.refresh_from_db()
    assert montlucon.territoire == "Montluçon Communauté"


def test_the_command_dry_run_creates_nothing():
    out = StringIO()
    call_command(
        "import_diagnostic",
        str(SEED),
        "--diagnostic=montlucon",
        "--territoire=Montluçon",
        "--dry-run",
        stdout=out,
    )
    assert out.getvalue().splitlines()[:2] == [
        "Simulation de l'import de « diagnostic-montlucon.tsv » : rien n'a été enregistré.",
        "Piliers : 3 créés, 0 inchangé",
    ]
    assert {name: rows for name, rows in snapshot().items() if rows} == {}
