"""The maps of quartiers drawn by the server (diagnostics/quartiers/carte.py): a valid SVG
with one named link per quartier, outlines projected for France (overseas too), holes and
several parts kept, labels that never overlap, patterns for hidden and missing values,
the quartiers without an outline listed, no inline style and no SQL."""

import re
import xml.etree.ElementTree as ET

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from shapely.geometry import MultiPolygon, Point, Polygon, box

from diagnostics.models import Quartier
from diagnostics.quartiers import carte, geometrie
from diagnostics.quartiers.carte import CARACTERE, INTERLIGNE, Legende, Zone, dessiner
from tests.factories import DiagnosticFactory, QuartierFactory

SVG = "{http://www.w3.org/2000/svg}"
MONTLUCON = (2.6, 46.34)
SAINT_DENIS_REUNION = (55.45, -20.88)


def carre(centre, cote=600, decalage=(0, 0), trou=None):
    """A GeoJSON square of `cote` metres, `decalage` metres from `centre` (lon, lat), with
    a square hole of `trou` metres in its middle if asked."""
    epsg = geometrie.epsg_for(*centre)
    cx, cy = geometrie.to_metres(Point(centre), epsg).coords[0]
    cx, cy = cx + decalage[0], cy + decalage[1]
    exterieur = box(cx - cote / 2, cy - cote / 2, cx + cote / 2, cy + cote / 2)
    if trou:
        interieur = box(cx - trou / 2, cy - trou / 2, cx + trou / 2, cy + trou / 2)
        exterieur = Polygon(exterieur.exterior.coords, [interieur.exterior.coords])
    return geometrie.mapping_of(MultiPolygon([geometrie.to_degrees(exterieur, epsg)]))


def quartiers(*contours, **fields):
    made = [QuartierFactory(contour=contour, communes=["03185"], **fields) for contour in contours]
    return list(
        Quartier.objects.filter(pk__in=[q.pk for q in made])
        .prefetch_related("communes")
        .order_by("code")
    )


def zones(quartiers_, **fields):
    return [Zone(q, url=f"/quartiers/{q.code}/", **fields) for q in quartiers_]


def parse(carte):
    return ET.fromstring(str(carte.svg))


def shape_links(root):
    """The links of the shapes: the focusable ones, one per quartier."""
    return [a for a in root.iter(f"{SVG}a") if a.get("tabindex") != "-1"]


def sous_chemins(path):
    return path.get("d").count("M")


def etendue(path):
    nombres = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path.get("d"))]
    xs, ys = nombres[0::2], nombres[1::2]
    return max(xs) - min(xs), max(ys) - min(ys)


def test_each_quartier_is_a_named_link_and_the_svg_parses():
    qs = quartiers(carre(MONTLUCON), carre(MONTLUCON, decalage=(1500, 0)))
    carte = dessiner(zones(qs, valeur="12,5 %"), titre="Quartiers du contrat", ident="contrat")

    root = parse(carte)
    assert root.get("role") == "group"
    assert root.get("aria-labelledby") == "contrat-titre"
    assert root.find(f"{SVG}title").text == "Quartiers du contrat"
    assert root.find(f"{SVG}title").get("id") == "contrat-titre"
    assert root.find(f"{SVG}desc").get("id") == "contrat-desc"
    links = shape_links(root)
    assert [a.get("href") for a in links] == [f"/quartiers/{q.code}/" for q in qs]
    for link, quartier in zip(links, qs, strict=True):
        assert link.find(f"{SVG}title").text == f"{quartier.nom} ({quartier.code}) : 12,5 %"
        assert link.find(f"{SVG}path").get("fill-rule") == "evenodd"
    width, height = (float(v) for v in root.get("viewBox").split()[2:])
    assert width == 800 and 320 <= height <= 720
    assert carte.description == (
        f"Carte de 2 quartiers : {qs[0].nom} (Montluçon) : 12,5 % "
        f"et {qs[1].nom} (Montluçon) : 12,5 %."
    )
    assert carte.sans_contour == []
    assert all(zone.dessinee for zone in carte.zones)


def test_holes_and_several_parts_are_drawn():
    avec_trou = carre(MONTLUCON, cote=800, trou=300)
    deux_parties = carre(MONTLUCON, decalage=(2000, 0))
    deux_parties["coordinates"] += carre(MONTLUCON, decalage=(3000, 500))["coordinates"]
    qs = quartiers(avec_trou, deux_parties)

    root = parse(dessiner(zones(qs), titre="Carte"))

    paths = [a.find(f"{SVG}path") for a in shape_links(root)]
    assert [sous_chemins(p) for p in paths] == [2, 2]
    assert all(p.get("fill-rule") == "evenodd" for p in paths)


@pytest.mark.parametrize("centre", [MONTLUCON, SAINT_DENIS_REUNION], ids=["metropole", "reunion"])
def test_a_square_on_the_ground_is_drawn_square_in_mainland_and_overseas(centre):
    """The outlines are projected in metres (Lambert-93 in mainland France, the UTM zone
    overseas): a square of 600 m stays square, where plain degrees would stretch it."""
    qs = quartiers(carre(centre, cote=600), carre(centre, cote=600, decalage=(900, 900)))

    paths = [a.find(f"{SVG}path") for a in shape_links(parse(dessiner(zones(qs), titre="C")))]

    for path in paths:
        largeur, hauteur = etendue(path)
        assert largeur == pytest.approx(hauteur, rel=0.01)
    # The second square is up and right of the first: the y axis is flipped.
    (x1, y1), (x2, y2) = (
        [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", p.get("d"))[:2]] for p in paths
    )
    assert x2 > x1 and y2 < y1


def test_coordinates_are_rounded_to_a_tenth():
    qs = quartiers(carre(MONTLUCON), carre(MONTLUCON, decalage=(700, 300)))
    root = parse(dessiner(zones(qs), titre="C"))
    for path in root.iter(f"{SVG}path"):
        assert not re.search(r"\d\.\d{2}", path.get("d"))


def test_quartiers_without_outline_are_listed_not_drawn():
    avec = quartiers(carre(MONTLUCON))
    sans = QuartierFactory(nom="Les Marais", contour=None)
    carte = dessiner(zones([*avec, sans]), titre="C")

    assert carte.sans_contour == [sans]
    assert [zone.dessinee for zone in carte.zones] == [True, False]
    root = parse(carte)
    assert [a.get("data-code") for a in shape_links(root)] == [avec[0].code]
    assert "Les Marais" not in "".join(t.text for t in root.iter(f"{SVG}title"))
    assert "Sans contour connu, non dessiné : Les Marais." in carte.description
    html = render_to_string("diagnostics/quartiers/_carte.html", {"carte": carte})
    assert "Les Marais" in html and "contour non connu, non dessiné" in html


def test_nothing_to_draw_gives_no_map():
    assert dessiner([], titre="C") is None
    assert dessiner(zones([QuartierFactory(contour=None)]), titre="C") is None


def test_an_unusable_stored_outline_is_listed_not_a_crash():
    cassé = {"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]]}
    qs = quartiers(carre(MONTLUCON)) + [QuartierFactory(nom="Tracé cassé", contour=cassé)]
    carte = dessiner(zones(qs), titre="C")
    assert [q.nom for q in carte.sans_contour] == ["Tracé cassé"]


def boites_etiquettes(root):
    """The boxes of the labels written on the map (names and numbers), estimated as the
    drawing does: each line `CARACTERE` units per character, `INTERLIGNE` high."""
    boites = []
    for text in root.iter(f"{SVG}text"):
        tspans = text.findall(f"{SVG}tspan")
        if tspans:
            x = float(tspans[0].get("x"))
            ys = [float(t.get("y")) for t in tspans]
            largeur = max(len(t.text) for t in tspans) * CARACTERE
            boites.append((x - largeur / 2, ys[0] - INTERLIGNE * 0.8, x + largeur / 2, ys[-1] + 4))
        else:
            x, y = float(text.get("x")), float(text.get("y"))
            boites.append((x - 12, y - 18, x + 12, y + 8))
    return boites


def test_labels_of_a_dense_set_do_not_overlap_and_the_rest_are_numbered():
    """30 quartiers of 250 m side by side, with long names: the labels that fit are moved
    apart, the others become numbers, given in the list beside the map."""
    contours = [
        carre(MONTLUCON, cote=250, decalage=(300 * (i % 6), 300 * (i // 6))) for i in range(30)
    ]
    qs = quartiers(*contours)
    for quartier in qs:
        quartier.nom = f"Résidence {quartier.code} des Hauts"
    carte = dessiner(zones(qs, valeur="100,0 %"), titre="Dense")
    root = parse(carte)

    boites = boites_etiquettes(root)
    assert len(boites) == 30
    for i, a in enumerate(boites):
        for b in boites[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    numerotees = [zone for zone in carte.zones if zone.repere]
    assert numerotees, "a set this dense cannot show every name"
    assert [z.repere for z in numerotees] == [str(n) for n in range(1, len(numerotees) + 1)]
    html = render_to_string("diagnostics/quartiers/_carte.html", {"carte": carte})
    for zone in numerotees:
        assert (
            f'<span class="carte-numero" title="Numéro sur la carte">{zone.repere}</span>' in html
        )


def test_label_links_are_hidden_duplicates_out_of_the_tab_order():
    qs = quartiers(carre(MONTLUCON), carre(MONTLUCON, decalage=(900, 0)))
    root = parse(dessiner(zones(qs), titre="C"))
    etiquettes = root.find(f"{SVG}g[@class='carte-etiquettes']")
    assert etiquettes.get("aria-hidden") == "true"
    assert all(a.get("tabindex") == "-1" for a in etiquettes.iter(f"{SVG}a"))
    assert len(shape_links(root)) == 2


def test_hidden_and_missing_values_have_their_patterns_and_legend():
    qs = quartiers(*(carre(MONTLUCON, decalage=(900 * i, 0)) for i in range(3)))
    legende = Legende("Taux de chômage (%)", [("#c6dbef", "de 10 à 20 %")])
    carte = dessiner(
        [
            Zone(qs[0], couleur="#c6dbef", valeur="12,5 %"),
            Zone(qs[1], motif="secret"),
            Zone(qs[2], motif="absent"),
        ],
        titre="Chômage",
        ident="choro",
        legende=legende,
    )
    root = parse(carte)

    ids = {p.get("id") for p in root.iter(f"{SVG}pattern")}
    assert ids == {"choro-secret", "choro-absent"}
    fills = [g.find(f"{SVG}path").get("fill") for g in root.find(f"{SVG}g").findall(f"{SVG}g")]
    assert fills == ["#c6dbef", "url(#choro-secret)", "url(#choro-absent)"]
    assert carte.legende.motifs == [
        ("choro-secret", "valeur non diffusée (secret statistique)"),
        ("choro-absent", "pas de valeur"),
    ]
    assert "valeur non diffusée (secret statistique)" in carte.description
    html = render_to_string("diagnostics/quartiers/_carte.html", {"carte": carte})
    assert 'fill="url(#choro-secret)"' in html and "Valeur non diffusée" in html
    assert "de 10 à 20 %" in html


def test_the_active_quartier_is_highlighted():
    qs = quartiers(carre(MONTLUCON), carre(MONTLUCON, decalage=(900, 0)))
    carte = dessiner([Zone(qs[0], url="/a/", actif=True), Zone(qs[1], url="/b/")], titre="C")
    links = shape_links(parse(carte))
    widths = [float(a.find(f"{SVG}path").get("stroke-width")) for a in links]
    assert widths[0] > widths[1]
    assert "carte-zone-active" in links[0].get("class")
    assert "(quartier de cette page, mis en évidence)" in carte.description


def test_demo_outlines_are_said_to_be_so():
    qs = quartiers(carre(MONTLUCON), contour_demonstration=True)
    carte = dessiner(zones(qs), titre="C")
    assert carte.demonstration
    assert "Tracés de démonstration : ce ne sont pas les contours officiels." in carte.description
    html = render_to_string("diagnostics/quartiers/_carte.html", {"carte": carte})
    assert "Tracés de démonstration : ce ne sont pas les contours officiels." in html

    assert not dessiner(
        zones(quartiers(carre(MONTLUCON, decalage=(5000, 0)))), titre="C"
    ).avertissement


def test_no_inline_style_and_text_is_escaped():
    qs = quartiers(carre(MONTLUCON))
    qs[0].nom = '<script>alert("x")</script> & Cie'
    carte = dessiner(zones(qs, valeur="<b>1</b>"), titre="Titre <i>")
    svg = str(carte.svg)
    parse(carte)
    assert "style=" not in svg
    assert "<script>" not in svg and "<b>" not in svg and "<i>" not in svg
    html = render_to_string("diagnostics/quartiers/_carte.html", {"carte": carte})
    assert "style=" not in html and "<script>" not in html


def test_drawing_sends_no_query(django_assert_num_queries):
    qs = quartiers(carre(MONTLUCON), carre(MONTLUCON, decalage=(900, 0)))
    with django_assert_num_queries(0):
        carte = dessiner(zones(qs), titre="C")
        render_to_string("diagnostics/quartiers/_carte.html", {"carte": carte})


def test_the_map_of_an_edition_links_each_fiche_and_highlights_the_page_quartier(
    django_assert_num_queries,
):
    """Its quartiers come with their outlines as JSON text, drawn without another query
    (the deferred `contour` is never read)."""
    edition = DiagnosticFactory(nom_edition="Diagnostic initial")
    edition.quartiers.add(*quartiers(carre(MONTLUCON), carre(MONTLUCON, decalage=(900, 0))))
    with django_assert_num_queries(2):
        found = carte.quartiers_of(edition)
    with django_assert_num_queries(0):
        drawn = carte.carte_edition(edition, found, actif=found[1], ident="fiche")

    links = shape_links(parse(drawn))
    assert [a.get("href") for a in links] == [
        reverse("fiche_quartier", kwargs={"slug": edition.slug, "code": q.code}) for q in found
    ]
    assert [zone.actif for zone in drawn.zones] == [False, True]
    assert drawn.titre == "Quartiers prioritaires de l'édition « Diagnostic initial »"
