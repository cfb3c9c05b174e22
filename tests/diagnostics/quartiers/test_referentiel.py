"""The import of the QPV référentiel (diagnostics.quartiers.referentiel), on files written
here in the ANCT's layouts: the GeoJSON of the 2024 list (code_qp, lib_qp, insee_com,
lib_com, insee_reg), an older one (Code_QP, Lib_QP), and a CSV of the same columns."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from diagnostics.models import Commune, ImportReferentiel, Quartier
from diagnostics.quartiers.referentiel import (
    GARDE_MINIMUM,
    MAX_ERRORS,
    ReferentielRefuse,
    import_referentiel,
    read_referentiel,
)
from tests.factories import DiagnosticFactory, QuartierFactory


def carre(lon, lat, cote=0.01):
    """A closed square ring (longitude, latitude) of `cote` degrees."""
    return [[lon, lat], [lon + cote, lat], [lon + cote, lat + cote], [lon, lat + cote], [lon, lat]]


def objet(code, nom, insee_com, geometry=None, **properties):
    return {
        "type": "Feature",
        "properties": {"code_qp": code, "lib_qp": nom, "insee_com": insee_com, **properties},
        "geometry": geometry or {"type": "Polygon", "coordinates": [carre(2.59, 46.34)]},
    }


def collection(*features, **extra):
    return {"type": "FeatureCollection", "features": list(features), **extra}


def geojson(*features, **extra):
    return json.dumps(collection(*features, **extra), ensure_ascii=False).encode()


def montlucon_2024():
    """Montluçon's three QPV as the 2024 GeoJSON gives them: Bien-Assis spans two communes
    (a list), Fontbouillant two (a text) and is a multipolygon."""
    return geojson(
        objet(
            "QN00304M",
            "Rive Gauche",
            "03185",
            lib_com="Montluçon",
            insee_reg="84",
            geometry={"type": "Polygon", "coordinates": [carre(2.58, 46.33)]},
        ),
        objet(
            "QN00305M",
            "Fontbouillant",
            "03185, 03211",
            lib_com="Montluçon, Prémilhat",
            insee_reg="84",
            geometry={
                "type": "MultiPolygon",
                "coordinates": [[carre(2.57, 46.34)], [carre(2.60, 46.34, 0.005)]],
            },
        ),
        objet(
            "QN00306M",
            "Bien-Assis",
            ["03185", "03101"],
            lib_com=["Montluçon", "Domérat"],
            insee_reg=84,
            geometry={"type": "Polygon", "coordinates": [carre(2.61, 46.35)]},
        ),
    )


def written():
    """What the database holds of the référentiel, by value."""
    return {
        "quartiers": sorted(
            (q.code, q.nom, q.region, tuple(c.code for c in q.communes.all()), q.contour)
            for q in Quartier.objects.prefetch_related("communes")
        ),
        "communes": sorted(Commune.objects.values_list("code", "nom")),
        "imports": ImportReferentiel.objects.count(),
    }


# A GeoJSON of the 2024 list ------------------------------------------------------------------


def test_the_geojson_creates_the_quartiers_with_their_communes_and_outlines():
    rapport = import_referentiel(
        "QP2024_France_Hexagonale_Outre_Mer_WGS84.geojson", montlucon_2024()
    )

    assert rapport.crees == ["QN00304M", "QN00305M", "QN00306M"]
    bien_assis = Quartier.objects.get(code="QN00306M")
    assert bien_assis.nom == "Bien-Assis" and bien_assis.region == "84"
    assert sorted(bien_assis.communes.values_list("code", "nom")) == [
        ("03101", "Domérat"),
        ("03185", "Montluçon"),
    ]
    fontbouillant = Quartier.objects.get(code="QN00305M")
    assert sorted(fontbouillant.communes.values_list("nom", flat=True)) == [
        "Montluçon",
        "Prémilhat",
    ]
    assert fontbouillant.contour["type"] == "MultiPolygon"
    assert len(fontbouillant.contour["coordinates"]) == 2
    assert bien_assis.contour["type"] == "MultiPolygon"  # a Polygon is stored as one
    assert not bien_assis.contour_demonstration
    assert Commune.objects.count() == 3
    trace = ImportReferentiel.objects.get()
    assert (trace.crees, trace.modifies, trace.inchanges, trace.laisses) == (3, 0, 0, 0)
    assert trace.avec_contours and not trace.force
    assert trace.fichier == "QP2024_France_Hexagonale_Outre_Mer_WGS84.geojson"


def test_the_outline_is_stored_simplified_and_rounded():
    """A ring of 400 points on a circle of 500 m keeps far fewer, rounded to 10 cm."""
    import math

    ring = [
        [
            2.6 + 0.0065 * math.cos(2 * math.pi * i / 400),
            46.34 + 0.0045 * math.sin(2 * math.pi * i / 400),
        ]
        for i in range(400)
    ]
    ring.append(ring[0])
    import_referentiel(
        "qpv.geojson",
        geojson(
            objet("QN00304M", "Rive Gauche", "03185", {"type": "Polygon", "coordinates": [ring]})
        ),
    )

    stored = Quartier.objects.get().contour["coordinates"][0][0]
    assert 10 < len(stored) < 200
    assert all(len(str(value).split(".")[1]) <= 6 for point in stored for value in point)


def test_a_second_import_of_the_same_file_changes_nothing():
    import_referentiel("qpv.geojson", montlucon_2024())
    before = written()
    stamps = dict(Quartier.objects.values_list("code", "updated_at"))

    rapport = import_referentiel("qpv.geojson", montlucon_2024())

    assert (rapport.crees, rapport.modifies) == ([], [])
    assert rapport.inchanges == ["QN00304M", "QN00305M", "QN00306M"]
    after = written()
    assert after["imports"] == before["imports"] + 1
    assert {**after, "imports": 0} == {**before, "imports": 0}
    assert dict(Quartier.objects.values_list("code", "updated_at")) == stamps


def test_an_update_changes_names_communes_and_outlines_and_leaves_the_absent_quartiers():
    import_referentiel("qpv.geojson", montlucon_2024())
    autre = QuartierFactory(code="QN07501M", nom="Ailleurs", communes=["75101"])
    DiagnosticFactory().quartiers.add(autre)

    rapport = import_referentiel(
        "qpv-2025.geojson",
        geojson(
            objet("QN00304M", "Rive Gauche (nouveau nom)", "03185", lib_com="Montluçon"),
            objet("QN00305M", "Fontbouillant", "03185", lib_com="Montluçon"),
            objet("QN00306M", "Bien-Assis", "03185 03101", lib_com="Montluçon ; Domérat"),
            objet("QN00399M", "Nouveau", "03185", lib_com="Montluçon"),
        ),
    )

    assert rapport.crees == ["QN00399M"]
    # Rive Gauche renamed and redrawn, Fontbouillant without Prémilhat and redrawn,
    # Bien-Assis redrawn (every square here is the default one).
    assert rapport.modifies == ["QN00304M", "QN00305M", "QN00306M"]
    assert rapport.laisses == ["QN07501M"]
    assert Quartier.objects.get(code="QN00304M").nom == "Rive Gauche (nouveau nom)"
    assert list(Quartier.objects.get(code="QN00305M").communes.values_list("code", flat=True)) == [
        "03185"
    ]
    # The absent quartier is left as it was, with its contract.
    autre.refresh_from_db()
    assert autre.nom == "Ailleurs" and autre.diagnostics.exists()
    assert "Laissés tels quels (absents du fichier) : 1 (QN07501M)." in rapport.lignes()


def test_an_official_outline_replaces_a_demonstration_one():
    QuartierFactory(code="QN00304M", nom="Rive Gauche", communes=["03185"])
    Quartier.objects.filter(code="QN00304M").update(
        contour={"type": "MultiPolygon", "coordinates": [[carre(2.0, 46.0)]]},
        contour_demonstration=True,
    )

    rapport = import_referentiel(
        "qpv.geojson", geojson(objet("QN00304M", "Rive Gauche", "03185", lib_com="Montluçon"))
    )

    quartier = Quartier.objects.get()
    assert rapport.modifies == ["QN00304M"]
    assert not quartier.contour_demonstration
    assert sorted(quartier.contour["coordinates"][0][0])[0] == [2.59, 46.34]


def test_an_older_file_with_capitalised_properties_is_read():
    old = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"Code_QP": "QN00304M", "Lib_QP": "Rive Gauche", "INSEE_COM": "3185"},
                "geometry": {"type": "Polygon", "coordinates": [carre(2.59, 46.34)]},
            }
        ],
    }

    rapport = import_referentiel("qp2015.json", json.dumps(old).encode())

    assert rapport.crees == ["QN00304M"]
    # A code of the Allier that a spreadsheet stripped of its leading zero.
    assert list(Quartier.objects.get().communes.values_list("code", flat=True)) == ["03185"]


def test_the_file_type_is_read_from_the_content_not_the_extension():
    lecture = read_referentiel("referentiel.csv", montlucon_2024())

    assert lecture.format == "GeoJSON" and lecture.avec_contours


def test_few_queries_whatever_the_number_of_quartiers():
    def queries(count, first):
        features = [
            objet(f"QN{first + n:05d}M", f"Quartier {n}", f"{3000 + n:05d}", lib_com=f"C {n}")
            for n in range(count)
        ]
        with CaptureQueriesContext(connection) as captured:
            import_referentiel("qpv.geojson", geojson(*features))
        return len(captured.captured_queries)

    assert queries(3, 100) == queries(30, 200)


# A CSV --------------------------------------------------------------------------------------


def test_the_csv_creates_quartiers_without_outlines_and_keeps_known_outlines():
    import_referentiel("qpv.geojson", montlucon_2024())
    contour = Quartier.objects.get(code="QN00304M").contour
    csv = (
        "\ufeffcode_qp;lib_qp;insee_com;lib_com;insee_reg\r\n"
        "QN00304M;Rive Gauche;03185;Montluçon;84\r\n"
        'QN06001M;Quartier de l\'Oise;"60057, 60175";"Beauvais, Creil";32\r\n'
    ).encode()

    rapport = import_referentiel("qpv.csv", csv)

    assert rapport.format == "CSV"
    assert rapport.crees == ["QN06001M"] and rapport.inchanges == ["QN00304M"]
    assert Quartier.objects.get(code="QN00304M").contour == contour
    oise = Quartier.objects.get(code="QN06001M")
    assert oise.contour is None and oise.region == "32"
    assert sorted(oise.communes.values_list("nom", flat=True)) == ["Beauvais", "Creil"]
    assert not ImportReferentiel.objects.first().avec_contours


def test_a_csv_with_commas_in_windows_1252_is_read():
    csv = "Code_QP,Lib_QP,insee_com\nQN00306M,Bien-Assis (Montluçon),03185 03101\n".encode("cp1252")

    rapport = import_referentiel("export excel.csv", csv)

    assert Quartier.objects.get().nom == "Bien-Assis (Montluçon)"
    assert rapport.crees == ["QN00306M"]


# Refusals: the place of each error, nothing written ------------------------------------------


def refused(content, filename="qpv.geojson", **options):
    before = written()
    with pytest.raises(ReferentielRefuse) as refus:
        import_referentiel(filename, content, **options)
    assert written() == before
    return "\n".join(refus.value.messages)


@pytest.mark.parametrize(
    ("feature", "message"),
    [
        (
            objet("QN304M", "Rive Gauche", "03185"),
            "Objet n° 2 : le code « QN304M » n'est pas un code QPV",
        ),
        (objet("", "Rive Gauche", "03185"), "Objet n° 2 : le code du quartier (code_qp) manque."),
        (
            objet("QN00304M", "  ", "03185"),
            "Objet n° 2 : le nom du quartier QN00304M (lib_qp) manque.",
        ),
        (objet("QN00304M", "Rive Gauche", "3185A"), "Objet n° 2 : le code de commune « 3185A »"),
        (objet("QN00304M", "Rive Gauche", ""), "Objet n° 2 : le code INSEE de la commune"),
        (
            objet("QN00304M", "Rive Gauche", "03185", insee_reg="Auvergne"),
            "le code région « Auvergne »",
        ),
        (
            objet(
                "QN00304M",
                "Rive Gauche",
                "03185",
                {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
            ),
            "Objet n° 2 : Le contour n'est pas valide (il se recoupe lui-même",
        ),
        (
            objet(
                "QN00304M", "Rive Gauche", "03185", {"type": "Point", "coordinates": [2.6, 46.3]}
            ),
            "Objet n° 2 : La géométrie est de type « Point »",
        ),
        (
            objet(
                "QN00304M",
                "Rive Gauche",
                "03185",
                {"type": "Polygon", "coordinates": [carre(660000, 6580000, 500)]},
            ),
            "ne sont pas des longitudes et latitudes",
        ),
        (
            objet("QN00305M", "Fontbouillant bis", "03185"),
            "Objet n° 2 : le quartier QN00305M figure déjà plus haut (objet n° 1).",
        ),
    ],
)
def test_a_bad_feature_refuses_the_file_with_its_number(feature, message):
    content = geojson(objet("QN00305M", "Fontbouillant", "03185"), feature)

    assert message in refused(content)


def test_a_bad_line_of_a_csv_is_named_as_a_spreadsheet_numbers_it():
    csv = b"code_qp;lib_qp;insee_com\nQN00304M;Rive Gauche;03185\n\nQN0030;Bien-Assis;03185\n"

    assert "Ligne 4 : le code « QN0030 » n'est pas un code QPV" in refused(csv, "qpv.csv")


def test_the_errors_are_listed_up_to_a_limit():
    features = [objet(f"QN{n:05d}", f"Q {n}", "03185") for n in range(MAX_ERRORS + 5)]

    message = refused(geojson(*features))

    assert f"Le fichier est refusé ({MAX_ERRORS + 5} erreurs) : rien n'a été enregistré." in message
    assert "… et 5 autres erreurs." in message
    assert message.count("Objet n°") == MAX_ERRORS


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"type": "Feature", "properties": {}}', "un GeoJSON « FeatureCollection »"),
        (b'{"type": "FeatureCollection"}', "la liste « features » manque"),
        (b'{"type": "FeatureCollection", "features": []}', "ne décrit aucun quartier"),
        (
            json.dumps(
                collection({"type": "Feature", "properties": {"nom": "x"}, "geometry": None})
            ).encode(),
            "pas de propriété « code_qp »",
        ),
        (
            geojson(
                objet("QN00304M", "Rive Gauche", "03185"),
                crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2154"}},
            ),
            "exportez-le en WGS 84",
        ),
        (
            b"code;nom;commune\nQN00304M;Rive Gauche;03185\n",
            "Ligne 1 : les colonnes attendues manquent",
        ),
        (b"", "Le fichier est vide."),
        (b"PK\x03\x04rest of a zip", "Ce fichier est une archive"),
    ],
)
def test_an_unexpected_layout_is_refused(content, message):
    assert message in refused(content)


def test_a_file_over_the_size_limit_is_refused_before_reading(settings):
    settings.REFERENTIEL_MAX_FILE_SIZE = 1000

    assert "au-delà de la taille maximale acceptée" in refused(montlucon_2024() + b" " * 1000)


# The guard: far fewer quartiers than today ---------------------------------------------------


@pytest.fixture
def referentiel_national():
    """A référentiel of GARDE_MINIMUM quartiers, loaded from a file."""
    features = [
        objet(f"QN{10000 + n:05d}M", f"Quartier {n}", "03185") for n in range(GARDE_MINIMUM)
    ]
    import_referentiel("national.geojson", geojson(*features))


def test_a_file_of_far_fewer_quartiers_than_today_is_refused(referentiel_national):
    message = refused(montlucon_2024())

    assert (
        f"Le fichier ne décrit que 3 quartiers, quand le référentiel en compte {GARDE_MINIMUM}"
        in message
    )
    assert "Forcer l’import" in message


def test_it_is_loaded_when_forced(referentiel_national):
    rapport = import_referentiel("qpv.geojson", montlucon_2024(), forcer=True)

    assert len(rapport.crees) == 3 and len(rapport.laisses) == GARDE_MINIMUM
    assert Quartier.objects.count() == GARDE_MINIMUM + 3
    assert ImportReferentiel.objects.first().force
    assert "Import forcé malgré le petit nombre de quartiers du fichier." in rapport.lignes()


def test_a_small_referentiel_is_replaced_freely():
    """The demo's three quartiers do not stop a city from loading a file of one."""
    import_referentiel("qpv.geojson", montlucon_2024())

    rapport = import_referentiel("un.geojson", geojson(objet("QN00304M", "Rive Gauche", "03185")))

    assert rapport.laisses == ["QN00305M", "QN00306M"]


def test_the_report_names_ten_codes_and_counts_the_others():
    features = [objet(f"QN{100 + n:05d}M", f"Quartier {n}", "03185") for n in range(12)]

    rapport = import_referentiel("qpv.geojson", geojson(*features))

    assert rapport.lignes()[1] == (
        "Créés : 12 (QN00100M, QN00101M, QN00102M, QN00103M, QN00104M, QN00105M, QN00106M, "
        "QN00107M, QN00108M, QN00109M et 2 autres)."
    )
    assert rapport.lignes()[2] == "Modifiés : 0."
