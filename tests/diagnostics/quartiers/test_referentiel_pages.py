"""Loading the QPV référentiel: the command `import_quartiers`, the page
/quartiers/referentiel/ (the platform's administrator only), and hostile files, which are
refused with a French message, never a 500, nothing written."""

import json
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from comptes.roles import Role
from diagnostics.models import Commune, ImportReferentiel, Quartier
from diagnostics.quartiers.referentiel import GARDE_MINIMUM, import_referentiel
from tests.diagnostics.quartiers.test_referentiel import geojson, montlucon_2024, objet, written
from tests.factories import QuartierFactory, UserFactory

URL = "/quartiers/referentiel/"


@pytest.fixture
def superuser():
    return UserFactory(
        username="plateforme", first_name="Anne", last_name="Plateforme", is_superuser=True
    )


@pytest.fixture
def national(client, superuser):
    client.force_login(superuser)
    return client


# The command -------------------------------------------------------------------------------


def test_the_command_loads_the_file_and_prints_the_report_in_french(tmp_path, capsys):
    path = tmp_path / "QP2024.geojson"
    path.write_bytes(montlucon_2024())

    call_command("import_quartiers", str(path))

    out = capsys.readouterr().out
    assert "Référentiel « QP2024.geojson » chargé : 3 quartiers lus, avec leurs contours." in out
    assert "Créés : 3 (QN00304M, QN00305M, QN00306M)." in out
    assert Quartier.objects.count() == 3
    assert ImportReferentiel.objects.get().importe_par is None


def test_the_command_refuses_a_bad_file_with_the_feature_number_and_writes_nothing(tmp_path):
    path = tmp_path / "qpv.geojson"
    path.write_bytes(geojson(objet("QN00304M", "Rive Gauche", "03185"), objet("X", "Y", "03185")))

    with pytest.raises(CommandError, match="Objet n° 2 : le code « X » n'est pas un code QPV"):
        call_command("import_quartiers", str(path))

    assert not Quartier.objects.exists() and not ImportReferentiel.objects.exists()


def test_the_command_is_forced_by_its_option(tmp_path):
    for n in range(GARDE_MINIMUM):
        QuartierFactory(code=f"QN{10000 + n:05d}M")
    path = tmp_path / "qpv.geojson"
    path.write_bytes(montlucon_2024())

    with pytest.raises(CommandError, match="ne décrit que 3 quartiers"):
        call_command("import_quartiers", str(path))
    assert Quartier.objects.count() == GARDE_MINIMUM

    call_command("import_quartiers", str(path), "--forcer")
    assert Quartier.objects.count() == GARDE_MINIMUM + 3


def test_the_command_names_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="Fichier introuvable"):
        call_command("import_quartiers", str(tmp_path / "absent.geojson"))


# The page ----------------------------------------------------------------------------------


def upload(client, content, name="qpv.geojson", **data):
    return client.post(URL, {"fichier": SimpleUploadedFile(name, content), **data})


def test_the_page_is_the_platform_administrators_only(client, contrat, settings):
    assert reverse("diagnostics:referentiel_quartiers") == URL
    # Anonymous: the login page.
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse(settings.LOGIN_URL)}?next={URL}"
    response = upload(client, montlucon_2024())
    assert response.status_code == 302
    # The contract's Administrateur, or any role: 403, nothing written.
    for role in Role:
        client.force_login(UserFactory(role=role, contrat=contrat))
        assert client.get(URL).status_code == 403
        assert upload(client, montlucon_2024()).status_code == 403
    assert not ImportReferentiel.objects.exists()
    assert not Quartier.objects.filter(code="QN00305M").exists()


def test_the_page_tells_what_the_referentiel_holds_and_its_last_loads(
    national, django_assert_num_queries
):
    import_referentiel("qpv.geojson", montlucon_2024())
    QuartierFactory(code="QN00399M", nom="Sans contour")
    Quartier.objects.filter(code="QN00304M").update(contour_demonstration=True)

    with django_assert_num_queries(4):  # session, user, counts, last imports
        response = national.get(URL)

    assert response.status_code == 200
    page = unescape(response.content.decode())
    assert "4 quartiers prioritaires, dans 3 communes" in page
    assert "3 avec un contour, dont 1 tracé pour la démonstration" in page
    assert "qpv.geojson" in page and "commande" in page
    assert 'enctype="multipart/form-data"' in page and "csrfmiddlewaretoken" in page


def test_the_number_of_queries_does_not_grow_with_the_loads(national, django_assert_num_queries):
    for n in range(15):
        import_referentiel(f"qpv-{n}.geojson", montlucon_2024())

    with django_assert_num_queries(4):
        response = national.get(URL)

    assert response.content.decode().count("qpv-") == 10


def test_the_upload_loads_the_file_and_shows_its_report(national, superuser):
    response = upload(national, montlucon_2024())

    assert response.status_code == 200
    page = unescape(response.content.decode())
    assert "Compte rendu de l’import" in page
    assert "Créés : 3 (QN00304M, QN00305M, QN00306M)." in page
    assert "3 quartiers prioritaires, dans 3 communes" in page
    assert ImportReferentiel.objects.get().importe_par == superuser
    assert sorted(Commune.objects.values_list("nom", flat=True)) == [
        "Domérat",
        "Montluçon",
        "Prémilhat",
    ]


def test_a_refused_upload_shows_why_and_writes_nothing(national):
    response = upload(national, geojson(objet("QN00304M", "", "03185")))

    assert response.status_code == 200
    page = unescape(response.content.decode())
    assert 'role="alert"' in page
    assert "Objet n° 1 : le nom du quartier QN00304M (lib_qp) manque." in page
    assert "<title>Erreur — " in page
    assert not Quartier.objects.exists() and not ImportReferentiel.objects.exists()


def test_far_fewer_quartiers_are_refused_on_the_page_unless_forced(national):
    for n in range(GARDE_MINIMUM):
        QuartierFactory(code=f"QN{10000 + n:05d}M")

    response = upload(national, montlucon_2024())
    assert "ne décrit que 3 quartiers" in response.content.decode()
    assert not ImportReferentiel.objects.exists()

    response = upload(national, montlucon_2024(), forcer="on")
    assert (
        "Import forcé malgré le petit nombre de quartiers du fichier." in response.content.decode()
    )
    assert ImportReferentiel.objects.get().force


def test_the_page_takes_no_other_method(national):
    assert national.put(URL).status_code == 405
    assert national.delete(URL).status_code == 405


def test_the_upload_needs_the_csrf_token(superuser):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(superuser)

    response = upload(client, montlucon_2024())

    assert response.status_code == 403
    assert not Quartier.objects.exists()


def test_a_file_over_the_limit_is_refused_by_the_form(national, settings):
    settings.REFERENTIEL_MAX_FILE_SIZE = 500

    response = upload(national, montlucon_2024())

    assert "Le fichier dépasse la taille maximale acceptée" in response.content.decode()
    assert not Quartier.objects.exists()


# Hostile files: a French message, never a 500 ------------------------------------------------

DEEP = b"[" * 100_000 + b"]" * 100_000
HOSTILE = [
    ("broken.geojson", b'{"type": "FeatureCollection", "features": [', "n'est pas du JSON lisible"),
    (
        "huge-int.geojson",
        b'{"type": "FeatureCollection", "features": [' + b"9" * 10_000 + b"]}",
        "n'est pas du JSON lisible",
    ),
    (
        "nan.geojson",
        b'{"type": "FeatureCollection", "features": [NaN]}',
        "n'est pas du JSON lisible",
    ),
    (
        "huge-coordinates.geojson",
        geojson(objet("QN00304M", "Rive", "03185")).replace(b"2.59", b"1e400"),
        "Objet n° 1",
    ),
    ("deep.geojson", DEEP, "JSON"),
    (
        "nul.geojson",
        geojson(objet("QN00304M", "Rive\x00Gauche", "03185")),
        "Objet n° 1 : le nom du quartier contient un caractère de contrôle",
    ),
    ("nul-bytes.csv", b"code_qp;lib_qp\x00\x00;insee_com\n", "texte lisible"),
    (
        "utf16.csv",
        "code_qp;lib_qp;insee_com\nQN00304M;Rive Gauche;03185\n".encode("utf-16-le"),
        "texte lisible",
    ),
    ("binaire.geojson", bytes(range(256)) * 4, "texte lisible"),
    ("colonnes.csv", b"Pilier;Th\xe8me;Sous-th\xe8me\nA;B;C\n", "les colonnes attendues manquent"),
    ("guillemet.csv", b'code_qp;lib_qp;insee_com\nQN00304M;"Rive Gauche;03185\n', "Ligne"),
    (
        "properties.geojson",
        json.dumps(
            {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": [1, 2]}]}
        ).encode(),
        "Objet n° 1 : ce n'est pas un objet GeoJSON",
    ),
    (
        "types.geojson",
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"code_qp": {"a": 1}, "lib_qp": [1], "insee_com": {"x": 2}},
                        "geometry": {"type": "Polygon", "coordinates": "abc"},
                    }
                ],
            }
        ).encode(),
        "Objet n° 1",
    ),
    (
        "long.geojson",
        geojson(objet("QN00304M" * 1000, "x" * 100_000, "03185" * 1000)),
        "Objet n° 1",
    ),
]


@pytest.mark.parametrize(("name", "content", "message"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_a_hostile_file_is_refused_with_a_message_never_a_500(national, name, content, message):
    before = written()

    response = upload(national, content, name=name)

    assert response.status_code == 200
    page = unescape(response.content.decode())
    assert 'role="alert"' in page
    assert message in page
    assert written() == before


# The admin ---------------------------------------------------------------------------------


def test_the_admin_lists_quartiers_with_their_communes_and_leads_to_the_referentiel(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    QuartierFactory(code="QN00305M", nom="Fontbouillant", communes=["03185", "03211"])

    page = client.get(reverse("admin:diagnostics_quartier_changelist")).content.decode()

    assert "Montluçon (03185), Prémilhat (03211)" in page
    assert f'href="{URL}"' in page and "Charger le référentiel de l’ANCT" in page
    assert reverse("admin:diagnostics_quartier_export") in page  # the flat export stays
    found = client.get(reverse("admin:diagnostics_quartier_changelist"), {"q": "Prémilhat"})
    assert "Fontbouillant" in found.content.decode()


def test_the_admin_shows_the_loads_of_the_referentiel_read_only(client, superuser):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    import_referentiel("QP2024.geojson", montlucon_2024(), utilisateur=superuser)
    changelist = reverse("admin:diagnostics_importreferentiel_changelist")

    page = client.get(changelist).content.decode()

    assert "QP2024.geojson" in page and f'href="{URL}"' in page
    change = reverse(
        "admin:diagnostics_importreferentiel_change", args=[ImportReferentiel.objects.get().pk]
    )
    assert client.post(change, {"fichier": "autre.geojson"}).status_code == 403
    assert ImportReferentiel.objects.get().fichier == "QP2024.geojson"
