"""Sizes in French units of 1024 ("10 Ko", "2,5 Mo"), as the README writes them, wherever
the site shows one (diagnostics.text.file_size and the `taille` filter)."""

import pytest
from django.template import Context, Template
from django.urls import reverse

from diagnostics.forms.imports import UploadForm
from diagnostics.imports.formats import UnreadableFile, check_size
from diagnostics.models import Diagnostic
from diagnostics.text import file_size, file_size_over
from tests.factories import DiagnosticFactory, ImportFactory, UserFactory

KIO, MIO = 1024, 1024 * 1024


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        (0, "0\xa0octet"),
        (1, "1\xa0octet"),
        (2, "2\xa0octets"),
        (1023, "1023\xa0octets"),
        (KIO, "1\xa0Ko"),
        (10 * KIO, "10\xa0Ko"),
        (1536, "1,5\xa0Ko"),
        (10 * MIO, "10\xa0Mo"),
        (int(2.5 * MIO), "2,5\xa0Mo"),
        (MIO - 1, "1\xa0Mo"),  # 1023,999 Ko rounds to 1024 Ko: said in Mo
        (3 * 1024 * MIO, "3\xa0Go"),
        (30 * MIO + 300 * KIO, "30,3\xa0Mo"),
    ],
)
def test_sizes_are_in_french_units(size, expected):
    assert file_size(size) == expected


def test_no_binary_prefix_is_ever_written():
    for exponent in range(0, 45, 3):
        for size in (2**exponent - 1, 2**exponent, 3 * 2**exponent + 7):
            text = file_size(size)
            assert "io" not in text and "iB" not in text, (size, text)
            number, unit = text.split("\xa0")
            assert unit in {"octet", "octets", "Ko", "Mo", "Go", "To"}
            assert "." not in number and not number.endswith(",0")


def test_the_template_filter_gives_the_same_text():
    rendered = Template("{% load tailles %}{{ n|taille }}").render(Context({"n": 10 * MIO}))
    assert rendered == "10\xa0Mo"


def test_the_refusal_of_a_large_file_names_the_limit_in_mo(settings):
    settings.IMPORT_MAX_FILE_SIZE = 10 * MIO
    with pytest.raises(UnreadableFile) as refused:
        check_size(12 * MIO + 300 * KIO, None)
    assert str(refused.value) == (
        "Le fichier fait 12,3\xa0Mo, au-delà de la taille maximale acceptée (10\xa0Mo)."
    )


@pytest.mark.django_db
def test_the_upload_form_states_each_limit_in_mo(settings):
    settings.IMPORT_MAX_FILE_SIZE = 10 * MIO
    form = UploadForm(diagnostics=Diagnostic.objects.all())
    help_texts = " ".join(str(field.help_text) for field in form.fields.values())
    assert "10\xa0Mo au plus pour" in help_texts
    assert "Mio" not in help_texts and "Kio" not in help_texts


@pytest.mark.django_db
def test_an_import_page_shows_its_size_in_ko(client):
    record = ImportFactory(diagnostic=DiagnosticFactory(), taille=25 * KIO + 512)
    client.force_login(UserFactory(is_superuser=True))

    page = client.get(reverse("diagnostics:import_detail", args=[record.pk])).content.decode()

    assert "<dt>Taille</dt><dd>25,5\xa0Ko</dd>" in page


def test_a_size_just_over_its_limit_never_reads_as_the_limit(settings):
    assert file_size_over(10 * MIO + 1, 10 * MIO) == "plus de 10\xa0Mo"
    assert file_size_over(12 * MIO, 10 * MIO) == "12\xa0Mo"
    settings.IMPORT_MAX_FILE_SIZE = 10 * MIO
    with pytest.raises(UnreadableFile) as refused:
        check_size(10 * MIO + 1, None)
    assert str(refused.value) == (
        "Le fichier fait plus de 10\xa0Mo, au-delà de la taille maximale acceptée (10\xa0Mo)."
    )
