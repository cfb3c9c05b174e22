"""The sections of the rapport annuel sur la politique de la ville, as the décret
n° 2015-1118 of 3 September 2015 sets them: declared once here, read by the models, the
pages and every document.

Each section has a text written in the site by the Équipe ville; some also have a part
generated from the diagnostic and its indicators (`genere`), kept up to date until the
report is adopted. The section of the actions funded by the dotation de solidarité urbaine
exists only when a commune of the contract receives it (`Rapport.dsu`). Partners
contribute their own sections, under « Actions menées » (`CONTRIBUTION`).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class SectionDuDecret:
    cle: str
    titre: str
    aide: str  # what the décret asks for, shown above the editor
    genere: str = ""  # the generated part: "" (none), EVOLUTION or CHANGEMENTS
    seulement_dsu: bool = False


EVOLUTION = "evolution"
CHANGEMENTS = "changements"
CONTRIBUTION = "contribution"

SECTIONS = (
    SectionDuDecret(
        "orientations",
        "Orientations et programme d'actions du contrat de ville",
        "Rappelez les orientations du contrat de ville et son programme d'actions pour l'année.",
        genere=CHANGEMENTS,
    ),
    SectionDuDecret(
        "evolution",
        "Évolution de la situation des quartiers prioritaires",
        "Décrivez l'évolution de la situation des quartiers au regard des objectifs de la "
        "politique de la ville et de ceux du contrat. Les indicateurs ci-dessous sont "
        "générés à partir du diagnostic et mis à jour jusqu'à l'adoption.",
        genere=EVOLUTION,
    ),
    SectionDuDecret(
        "actions",
        "Actions menées au cours de l'année",
        "Présentez les actions menées dans l'année en faveur des quartiers prioritaires. "
        "Les signataires du contrat peuvent y contribuer chacun pour sa part.",
    ),
    SectionDuDecret(
        "perspectives",
        "Perspectives d'évolution",
        "Exposez les perspectives au regard des résultats obtenus et des moyens mobilisés.",
    ),
    SectionDuDecret(
        "dsu",
        "Actions financées par la dotation de solidarité urbaine",
        "Retracez les actions de développement social urbain financées par la DSU et les "
        "conditions de leur financement.",
        seulement_dsu=True,
    ),
)

PAR_CLE = {section.cle: section for section in SECTIONS}
CHOIX = [(section.cle, section.titre) for section in SECTIONS] + [
    (CONTRIBUTION, "Contribution d'un partenaire")
]
# Partners' contributions are placed after this section of the décret.
CONTRIBUTIONS_APRES = "actions"


def sections_of(dsu):
    """The décret's sections of a report, in order: the DSU one only when `dsu`."""
    return [section for section in SECTIONS if dsu or not section.seulement_dsu]
