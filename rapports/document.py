"""The whole report as one document: its heading and its blocks (`rapports.blocs`), in the
order of the décret, from which the page, the ODT, the DOCX and the PDF are all drawn.

- each section of the décret (`rapports.sections`): its heading (level 1), the text
  written by the Équipe ville, its generated part (live until adoption, then as frozen in
  `Rapport.contenu_fige`), and under « Actions menées » the partners' contributions, each
  marked as theirs;
- the annex: the consulted bodies, their opinions (a silence past the deadline counts as
  favourable) and the follow-up the assembly gave them.
"""

from dataclasses import dataclass, field
from datetime import date

from django.utils import timezone

from . import balisage, blocs, consultation, contenu, sections
from .models import Rapport

ANNEXE = "Annexe : avis des instances consultées"


@dataclass
class Partie:
    """A section of the document: its heading, the Section written in the site (None for
    the annex), its blocks, and the contributions placed under it."""

    titre: str
    ancre: str
    section: object = None
    blocs: list = field(default_factory=list)
    contributions: list = field(default_factory=list)  # [Partie]


@dataclass
class Document:
    titre: str
    contrat: str
    territoire: str
    annee: int
    version: int
    statut: str
    mention: str  # "Projet soumis à consultation", "Adopté le … par …", …
    parties: list = field(default_factory=list)  # [Partie]

    @property
    def blocs(self):
        """Every block in order, each part's heading first (level 1, contributions 2)."""
        out = []
        for partie in self.parties:
            out.append(blocs.titre(1, partie.titre, partie.ancre))
            out += partie.blocs
            for contribution in partie.contributions:
                out.append(blocs.titre(2, contribution.titre, contribution.ancre))
                out += contribution.blocs
        return out

    @property
    def sommaire(self):
        return blocs.sommaire(self.blocs)

    @property
    def texte(self):
        return "\n".join(blocs.texte_de(bloc) for bloc in self.blocs)


def genere(rapport):
    """The generated parts of a report, as blocks: {"evolution": […], "changements": […],
    "edition": its name, "genere_le": ISO date}; frozen ones once adopted."""
    if rapport.contenu_fige is not None:
        return rapport.contenu_fige
    edition = contenu.edition_du_rapport(rapport.contrat, rapport.annee)
    return {
        "evolution": contenu.evolution(edition, rapport.annee),
        "changements": contenu.changements(rapport.contrat, rapport.annee),
        "edition": edition.nom_edition if edition else "",
        "genere_le": timezone.localdate().isoformat(),
    }


def mention(rapport):
    if rapport.statut == Rapport.Statut.BROUILLON:
        return "Projet de rapport (brouillon)"
    if rapport.statut == Rapport.Statut.CONSULTATION:
        return "Projet de rapport soumis à consultation"
    texte = f"Adopté le {rapport.date_deliberation:%d/%m/%Y}"
    if rapport.instance_deliberante:
        texte += f" ({rapport.instance_deliberante})"
    if rapport.date_publication:
        texte += f", publié le {timezone.localtime(rapport.date_publication):%d/%m/%Y}"
    return texte


def construire(rapport, parties=None, aujourd_hui=None):
    """The Document of a report (`parties`: its generated parts, when already computed).
    Queries: the sections and bodies (two), and the generated parts until adoption."""
    parties = parties if parties is not None else genere(rapport)
    rapport_sections = list(rapport.sections.all())
    decret = {s.cle: s for s in rapport_sections if not s.est_contribution}
    contributions = [s for s in rapport_sections if s.est_contribution]
    out = []
    for du_decret in sections.sections_of(rapport.dsu):
        section = decret.get(du_decret.cle)
        partie = Partie(du_decret.titre, f"section-{du_decret.cle}", section)
        texte = balisage.vers_blocs(section.texte if section else "")
        if texte:
            partie.blocs += texte
        elif not du_decret.genere:
            partie.blocs.append(blocs.note("Section à rédiger."))
        if du_decret.genere == sections.EVOLUTION:
            partie.blocs += parties.get("evolution", [])
        elif du_decret.genere == sections.CHANGEMENTS:
            partie.blocs += parties.get("changements", [])
        if du_decret.cle == sections.CONTRIBUTIONS_APRES:
            for contribution in contributions:
                texte = balisage.vers_blocs(contribution.texte, niveau_base=2)
                partie.contributions.append(
                    Partie(
                        contribution.titre,
                        f"contribution-{contribution.pk}",
                        contribution,
                        [blocs.note(f"Contribution de {contribution.auteur}")]
                        + (texte or [blocs.note("Contribution attendue.")]),
                    )
                )
        out.append(partie)
    out.append(annexe(rapport, aujourd_hui))
    return Document(
        titre=rapport.titre,
        contrat=rapport.contrat.nom,
        territoire=rapport.contrat.territoire,
        annee=rapport.annee,
        version=rapport.version,
        statut=rapport.get_statut_display(),
        mention=mention(rapport),
        parties=out,
    )


def annexe(rapport, aujourd_hui=None):
    """The consulted bodies, their opinions and the follow-up given (the annex, a
    Partie)."""
    aujourd_hui = aujourd_hui or timezone.localdate()
    instances = list(rapport.instances.all())
    partie = Partie(ANNEXE, "annexe-avis")
    out = partie.blocs
    if not instances:
        out.append(blocs.paragraphe("Aucune instance n'a encore été consultée."))
        return partie
    lignes = []
    for instance in instances:
        lignes.append(
            [
                instance.nom,
                instance.get_nature_display(),
                _date(instance.date_envoi),
                _date(instance.date_limite),
                consultation.avis_affiche(instance, aujourd_hui),
                instance.suite_donnee or "—",
            ]
        )
    out.append(
        blocs.tableau(
            "Instances consultées sur le projet de rapport",
            (
                "Instance",
                "Nature",
                "Projet envoyé le",
                "Date limite",
                "Avis",
                "Suite donnée par l'assemblée",
            ),
            lignes,
        )
    )
    for instance in instances:
        if instance.avis_texte.strip():
            out.append(blocs.titre(2, f"Avis : {instance.nom}", f"avis-{instance.pk}"))
            out += [
                blocs.paragraphe(paragraphe.strip())
                for paragraphe in instance.avis_texte.split("\n\n")
                if paragraphe.strip()
            ]
    return partie


def _date(value):
    return value.strftime("%d/%m/%Y") if isinstance(value, date) else ""
