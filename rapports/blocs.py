"""The report as a list of blocks: what every output (the page, the ODT, the DOCX and the
PDF) is drawn from, so that all four say the same thing.

A block is a plain dict (JSON: an adopted report keeps its generated blocks as they were,
`Rapport.contenu_fige`), with its type under "type":

- titre: {"niveau": 1–4, "texte", "ancre"}: a heading (1: a section of the décret);
- paragraphe: {"morceaux": [morceau…]}; a morceau is {"texte", "gras", "italique", "lien"}
  ("lien": an absolute http(s) or mailto address, or "");
- liste: {"ordonnee": bool, "elements": [[morceau…]…]};
- tableau: {"legende", "entetes": [str], "lignes": [[str]]}: the first cell of each row
  names it (a row header);
- graphique: {"titre", "alternative", "svg", "trace"}: "svg" is the chart of the page and
  the PDF; "trace" what the documents draw it from as an image: {"unite", "etiquettes":
  [period labels], "series": [{"nom", "valeurs": [number or None]}], "cible": number or
  None}; "alternative" is its text alternative;
- note: {"texte"}: a remark in small print (a source, the secret, a contribution's author).

Values in blocks are already what a partner may see: the secret statistique is applied
before a block is made (`rapports.contenu`).
"""

TITRE, PARAGRAPHE, LISTE, TABLEAU, GRAPHIQUE, NOTE = (
    "titre",
    "paragraphe",
    "liste",
    "tableau",
    "graphique",
    "note",
)


def morceau(texte, gras=False, italique=False, lien=""):
    return {"texte": texte, "gras": gras, "italique": italique, "lien": lien}


def titre(niveau, texte, ancre=""):
    return {"type": TITRE, "niveau": niveau, "texte": texte, "ancre": ancre}


def paragraphe(*morceaux):
    return {
        "type": PARAGRAPHE,
        "morceaux": [m if isinstance(m, dict) else morceau(m) for m in morceaux],
    }


def liste(elements, ordonnee=False):
    return {
        "type": LISTE,
        "ordonnee": ordonnee,
        "elements": [
            [m if isinstance(m, dict) else morceau(m) for m in element]
            if isinstance(element, list)
            else [morceau(element)]
            for element in elements
        ],
    }


def tableau(legende, entetes, lignes):
    return {
        "type": TABLEAU,
        "legende": legende,
        "entetes": list(entetes),
        "lignes": [list(ligne) for ligne in lignes],
    }


def graphique(titre_, alternative, svg, trace):
    return {
        "type": GRAPHIQUE,
        "titre": titre_,
        "alternative": alternative,
        "svg": svg,
        "trace": trace,
    }


def note(texte):
    return {"type": NOTE, "texte": texte}


def texte_de(bloc):
    """The plain text of a block (for searching and tests)."""
    kind = bloc["type"]
    if kind in (TITRE, NOTE):
        return bloc["texte"]
    if kind == PARAGRAPHE:
        return "".join(m["texte"] for m in bloc["morceaux"])
    if kind == LISTE:
        return "\n".join("".join(m["texte"] for m in e) for e in bloc["elements"])
    if kind == TABLEAU:
        rows = [bloc["legende"], " ".join(bloc["entetes"])]
        rows += [" ".join(ligne) for ligne in bloc["lignes"]]
        return "\n".join(rows)
    if kind == GRAPHIQUE:
        return f"{bloc['titre']}\n{bloc['alternative']}"
    return ""


def sommaire(blocs, niveau_max=2):
    """The headings of the table of contents: [(niveau, texte, ancre)]."""
    return [
        (b["niveau"], b["texte"], b["ancre"])
        for b in blocs
        if b["type"] == TITRE and b["niveau"] <= niveau_max
    ]
