"""The text of a section: written in a plain syntax, stored as safe markup.

Staff write in the textarea with a few conventions (shown beside it):
- an empty line between paragraphs;
- `## Titre` and `### Sous-titre` for headings inside the section;
- `- élément` for a list, `1. élément` for a numbered one;
- `**gras**`, `*italique*`, `[texte du lien](https://adresse)`.
Markup pasted from elsewhere (HTML) is accepted too.

Either way the text is stored as HTML restricted to paragraphs, two levels of headings,
lists, links (http, https, mailto), bold, italics and line breaks, cleaned by nh3 (the
standard sanitiser, Rust's ammonia): no script, no attribute but a link's address, no
style ever reaches a page or a document. It is cleaned again when it is read
(`vers_blocs`), so that a row written by other means is no danger either.
"""

import html
import re
from html.parser import HTMLParser

import nh3

from . import blocs

TEXTE_MAX = 100_000  # characters of a section's text

BALISES = {"p", "h3", "h4", "ul", "ol", "li", "a", "strong", "em", "b", "i", "br"}
ATTRIBUTS = {"a": {"href"}}
SCHEMAS = {"http", "https", "mailto"}


def nettoyer(markup):
    """The markup with only what a report may hold (see the module's documentation)."""
    return nh3.clean(
        markup,
        tags=BALISES,
        attributes=ATTRIBUTS,
        url_schemes=SCHEMAS,
        link_rel="noopener noreferrer",
        strip_comments=True,
    ).strip()


# Markup pasted from a page or a word processor: it holds text tags.
_BALISAGE = re.compile(r"<\s*(p|h[1-6]|ul|ol|li|a|strong|em|b|i|br|div|span|table)\b", re.I)


def depuis_saisie(texte):
    """What a section stores from what was typed: HTML cleaned, or the plain syntax made
    into HTML. Line ends normalised; NUL and other control characters dropped."""
    texte = _sans_controles(texte.replace("\r\n", "\n").replace("\r", "\n"))
    if _BALISAGE.search(texte):
        return nettoyer(texte)
    # The plain syntax: any other tag (a script, a style) goes, its content with it.
    texte = html.unescape(nh3.clean(texte, tags=set(), strip_comments=True))
    return nettoyer(vers_html(depuis_syntaxe(texte)))


def _sans_controles(texte):
    return "".join(c for c in texte if c in "\n\t" or (c.isprintable() or c == " "))


# The plain syntax <-> blocks -------------------------------------------------------------

_LIEN = re.compile(r"\[([^\]\n]+)\]\(((?:https?://|mailto:)[^)\s]+)\)")
_GRAS = re.compile(r"\*\*(.+?)\*\*")
_ITALIQUE = re.compile(
    r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])|(?<!\w)_(?!\s)(.+?)(?<!\s)_(?!\w)"
)
_PUCE = re.compile(r"^\s*[-*•]\s+(.*)$")
_NUMERO = re.compile(r"^\s*\d{1,3}[.)]\s+(.*)$")
_TITRE = re.compile(r"^(#{1,3})\s+(.*)$")


def _morceaux(ligne):
    """The inline runs of one line of the plain syntax."""
    morceaux = []
    position = 0
    for lien in _LIEN.finditer(ligne):
        morceaux += _styles(ligne[position : lien.start()])
        morceaux.append(blocs.morceau(lien.group(1), lien=lien.group(2)))
        position = lien.end()
    morceaux += _styles(ligne[position:])
    return [m for m in morceaux if m["texte"]]


def _styles(texte, gras=False, italique=False):
    out, position = [], 0
    pattern = _GRAS if not gras else None
    if pattern:
        for match in pattern.finditer(texte):
            out += _styles(texte[position : match.start()], gras, italique)
            out += _styles(match.group(1), True, italique)
            position = match.end()
        if position:
            return out + _styles(texte[position:], gras, italique)
    if not italique:
        for match in _ITALIQUE.finditer(texte):
            out.append(blocs.morceau(texte[position : match.start()], gras, italique))
            out.append(blocs.morceau(match.group(1) or match.group(2), gras, True))
            position = match.end()
    out.append(blocs.morceau(texte[position:], gras, italique))
    return [m for m in out if m["texte"]]


def depuis_syntaxe(texte, niveau_base=1):
    """Blocks from the plain syntax (headings inside a section are levels base+1, +2)."""
    result, paragraphe, liste = [], [], None

    def fin_paragraphe():
        if paragraphe:
            result.append(blocs.paragraphe(*_morceaux(" ".join(paragraphe))))
            paragraphe.clear()

    for ligne in texte.split("\n"):
        ligne = ligne.rstrip()
        titre, puce, numero = _TITRE.match(ligne), _PUCE.match(ligne), _NUMERO.match(ligne)
        if not ligne.strip() or titre or puce or numero:
            fin_paragraphe()
        if not (puce or numero):
            liste = None
        if not ligne.strip():
            continue
        if titre:
            niveau = niveau_base + (2 if len(titre.group(1)) == 3 else 1)
            result.append(blocs.titre(niveau, titre.group(2).strip()))
        elif puce or numero:
            ordonnee = bool(numero)
            if liste is None or liste["ordonnee"] != ordonnee:
                liste = blocs.liste([], ordonnee=ordonnee)
                result.append(liste)
            liste["elements"].append(_morceaux((puce or numero).group(1)))
        else:
            paragraphe.append(ligne.strip())
    fin_paragraphe()
    return result


def vers_syntaxe(markup):
    """The plain syntax of stored markup, for the textarea."""
    lines = []
    for bloc in vers_blocs(markup):
        kind = bloc["type"]
        if kind == blocs.TITRE:
            lines += ["#" * min(bloc["niveau"], 3) + " " + bloc["texte"], ""]
        elif kind == blocs.PARAGRAPHE:
            lines += [_syntaxe_morceaux(bloc["morceaux"]), ""]
        elif kind == blocs.LISTE:
            for index, element in enumerate(bloc["elements"], start=1):
                prefix = f"{index}. " if bloc["ordonnee"] else "- "
                lines.append(prefix + _syntaxe_morceaux(element))
            lines.append("")
    return "\n".join(lines).strip()


def _syntaxe_morceaux(morceaux):
    out = []
    for m in morceaux:
        texte = m["texte"]
        if m["italique"]:
            texte = f"*{texte}*"
        if m["gras"]:
            texte = f"**{texte}**"
        if m["lien"]:
            texte = f"[{texte}]({m['lien']})"
        out.append(texte)
    return "".join(out)


# Markup <-> blocks -----------------------------------------------------------------------


def vers_html(liste_de_blocs):
    """Markup of text blocks (titles inside a section, paragraphs, lists)."""
    out = []
    for bloc in liste_de_blocs:
        kind = bloc["type"]
        if kind == blocs.TITRE:
            balise = "h3" if bloc["niveau"] <= 2 else "h4"
            out.append(f"<{balise}>{html.escape(bloc['texte'])}</{balise}>")
        elif kind == blocs.PARAGRAPHE:
            out.append(f"<p>{_html_morceaux(bloc['morceaux'])}</p>")
        elif kind == blocs.LISTE:
            balise = "ol" if bloc["ordonnee"] else "ul"
            items = "".join(f"<li>{_html_morceaux(e)}</li>" for e in bloc["elements"])
            out.append(f"<{balise}>{items}</{balise}>")
    return "\n".join(out)


def _html_morceaux(morceaux):
    out = []
    for m in morceaux:
        texte = html.escape(m["texte"]).replace("\n", "<br>")
        if m["italique"]:
            texte = f"<em>{texte}</em>"
        if m["gras"]:
            texte = f"<strong>{texte}</strong>"
        if m["lien"]:
            texte = f'<a href="{html.escape(m["lien"])}">{texte}</a>'
        out.append(texte)
    return "".join(out)


def vers_blocs(markup, niveau_base=1):
    """The blocks of stored markup (cleaned again first): h3 is level base+1, h4 base+2;
    text outside any paragraph makes one."""
    lecteur = _Lecteur(niveau_base)
    lecteur.feed(nettoyer(markup or ""))
    lecteur.close()
    return lecteur.fin()


class _Lecteur(HTMLParser):
    def __init__(self, niveau_base):
        super().__init__(convert_charrefs=True)
        self.niveau_base = niveau_base
        self.blocs = []
        self.courant = None  # the runs being gathered (a paragraph, a heading, an item)
        self.titre = None
        self.listes = []
        self.gras = self.italique = 0
        self.lien = ""

    def _morceaux(self):
        if self.courant is None:
            self.courant = []
            if not self.listes and self.titre is None:
                self.blocs.append(blocs.paragraphe())
                self.blocs[-1]["morceaux"] = self.courant
        return self.courant

    def _fermer(self):
        if self.courant is not None and not self.listes and self.titre is None:
            self._tailler(self.courant)
            dernier = self.blocs[-1] if self.blocs else None
            if not self.courant and dernier and dernier.get("morceaux") is self.courant:
                self.blocs.pop()
        self.courant = None

    @staticmethod
    def _tailler(morceaux):
        while morceaux and not morceaux[0]["texte"].strip():
            morceaux.pop(0)
        while morceaux and not morceaux[-1]["texte"].strip():
            morceaux.pop()
        if morceaux:
            morceaux[0]["texte"] = morceaux[0]["texte"].lstrip()
            morceaux[-1]["texte"] = morceaux[-1]["texte"].rstrip()

    def handle_starttag(self, tag, attrs):
        if tag in ("p", "h3", "h4", "ul", "ol"):
            self._fermer()
        if tag in ("h3", "h4"):
            self.titre = (self.niveau_base + (1 if tag == "h3" else 2), [])
            self.courant = self.titre[1]
        elif tag in ("ul", "ol"):
            liste = blocs.liste([], ordonnee=tag == "ol")
            if not self.listes:
                self.blocs.append(liste)
                self.listes.append(liste)
            else:
                self.listes.append(self.listes[0])  # nested lists are flattened
        elif tag == "li":
            if not self.listes:
                liste = blocs.liste([])
                self.blocs.append(liste)
                self.listes.append(liste)
            self.courant = []
            self.listes[-1]["elements"].append(self.courant)
        elif tag in ("strong", "b"):
            self.gras += 1
        elif tag in ("em", "i"):
            self.italique += 1
        elif tag == "a":
            self.lien = dict(attrs).get("href") or ""
        elif tag == "br":
            self._morceaux().append(blocs.morceau("\n", self.gras > 0, self.italique > 0))

    def handle_endtag(self, tag):
        if tag in ("h3", "h4") and self.titre is not None:
            niveau, morceaux = self.titre
            texte = "".join(m["texte"] for m in morceaux).strip()
            if texte:
                self.blocs.append(blocs.titre(niveau, " ".join(texte.split())))
            self.titre = None
            self.courant = None
        elif tag == "p":
            self._fermer()
        elif tag in ("ul", "ol") and self.listes:
            self.listes.pop()
            if not self.listes:
                liste = self.blocs[-1] if self.blocs else None
                for element in liste["elements"] if liste else []:
                    self._tailler(element)
            self.courant = None
        elif tag == "li":
            self.courant = None
        elif tag in ("strong", "b"):
            self.gras = max(0, self.gras - 1)
        elif tag in ("em", "i"):
            self.italique = max(0, self.italique - 1)
        elif tag == "a":
            self.lien = ""

    def handle_data(self, data):
        if self.courant is None and not data.strip():
            return
        data = re.sub(r"\s+", " ", data)
        if self.listes and self.courant is None:
            self.courant = []
            self.listes[-1]["elements"].append(self.courant)
        self._morceaux().append(blocs.morceau(data, self.gras > 0, self.italique > 0, self.lien))

    def fin(self):
        self._fermer()
        for bloc in self.blocs:
            if bloc["type"] == blocs.LISTE:
                bloc["elements"] = [e for e in bloc["elements"] if e]
        return [
            b
            for b in self.blocs
            if not (b["type"] == blocs.PARAGRAPHE and not b["morceaux"])
            and not (b["type"] == blocs.LISTE and not b["elements"])
        ]
