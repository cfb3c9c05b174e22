"""Every request body has a size limit, checked from its Content-Length before a byte of
it is read (contrat_ville.middleware): a French 413 page, nothing spooled to disk. The
import screen alone takes a larger body, up to its largest file."""

import pytest
from django.urls import reverse

from tests.factories import UserFactory

BOUNDARY = "limite"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


class UnreadableBody:
    """A request body that fails the test as soon as anything reads it."""

    def read(self, *args):
        raise AssertionError("le contenu de la requête a été lu")

    readline = read

    def __iter__(self):
        raise AssertionError("le contenu de la requête a été lu")


def post_announcing(client, url, size, **extra):
    """A multipart POST announcing `size` bytes, whose body must not be read."""
    return client.generic(
        "POST",
        url,
        b"",
        content_type=MULTIPART,
        CONTENT_LENGTH=str(size),
        **{"wsgi.input": UnreadableBody()},
        **extra,
    )


def test_an_anonymous_gigabyte_on_the_login_page_is_refused_unread(client):
    response = post_announcing(client, reverse("login"), 1024**3)

    assert response.status_code == 413
    page = response.content.decode()
    assert "Requête trop volumineuse" in page
    assert "Le contenu envoyé (1\xa0Go) dépasse la taille acceptée (3\xa0Mo)" in page
    assert "rien n’a été enregistré" in page


def test_a_body_just_over_the_limit_is_refused_one_under_it_is_read(client, settings):
    settings.REQUEST_MAX_BODY_SIZE = 2000
    url = reverse("login")

    refused = post_announcing(client, url, 2001)
    assert refused.status_code == 413
    # 2001 and 2000 bytes both read "2 Ko": the refused size never reads as the limit.
    assert "(plus de 2\xa0Ko) dépasse la taille acceptée (2\xa0Ko)" in refused.content.decode()
    body = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="username"\r\n\r\n'
    body = (body + "x" * 1500 + f"\r\n--{BOUNDARY}--\r\n").encode()
    response = client.generic("POST", url, body, content_type=MULTIPART)
    assert len(body) <= 2000
    assert response.status_code in (200, 403)  # the form (or the CSRF check) read it


def test_a_large_file_part_anywhere_but_the_import_screen_is_refused(client, admin, settings):
    settings.REQUEST_MAX_BODY_SIZE = 2000
    file_body = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="fichier"; '
        f'filename="gros.csv"\r\nContent-Type: text/csv\r\n\r\n'
        + "a;b\n" * 2000
        + f"\r\n--{BOUNDARY}--\r\n"
    ).encode()

    response = client.generic(
        "POST", reverse("diagnostics:imports"), file_body, content_type=MULTIPART
    )

    assert response.status_code == 413


def test_the_import_screen_takes_its_largest_file_but_no_more(client, admin, settings):
    settings.REQUEST_MAX_BODY_SIZE = 2000
    settings.IMPORT_MAX_FILE_SIZE = 10_000
    settings.IMPORT_MESURES_MAX_FILE_SIZE = 30_000
    url = reverse("diagnostics:import_nouveau")

    # A file part of 20 000 bytes reaches the form (which then checks each kind's limit).
    file_body = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="fichier"; '
        f'filename="valeurs.csv"\r\nContent-Type: text/csv\r\n\r\n'
        + "a;b\n" * 5000
        + f"\r\n--{BOUNDARY}--\r\n"
    ).encode()
    response = client.generic("POST", url, file_body, content_type=MULTIPART)
    assert response.status_code == 200
    assert "Requête trop volumineuse" not in response.content.decode()

    # Beyond the largest file plus the margin of the form's other fields: refused unread.
    assert post_announcing(client, url, 32_001).status_code == 413


def test_a_body_without_a_length_is_refused_unread(client):
    response = client.generic(
        "POST",
        reverse("login"),
        b"",
        content_type=MULTIPART,
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": UnreadableBody()},
    )

    assert response.status_code == 411
    assert "sans être lue" in response.content.decode()


@pytest.mark.parametrize("method", ["get", "head"])
def test_requests_without_a_body_are_untouched(client, method):
    assert getattr(client, method)(reverse("login")).status_code == 200


def test_the_referentiel_page_takes_the_national_file_but_no_more(client, settings):
    settings.REQUEST_MAX_BODY_SIZE = 2000
    settings.REFERENTIEL_MAX_FILE_SIZE = 30_000
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    url = reverse("diagnostics:referentiel_quartiers")

    # A file of 10 000 bytes reaches the page, which reads it (and refuses its layout).
    file_body = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="fichier"; '
        f'filename="qp.csv"\r\nContent-Type: text/csv\r\n\r\n'
        + "a;b\n" * 2500
        + f"\r\n--{BOUNDARY}--\r\n"
    ).encode()
    response = client.generic("POST", url, file_body, content_type=MULTIPART)
    assert response.status_code != 413
    assert "Requête trop volumineuse" not in response.content.decode()

    # Beyond the référentiel's limit plus the form's other fields: refused unread.
    assert post_announcing(client, url, 32_001).status_code == 413
