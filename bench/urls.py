"""The site's URLs plus the trivial view of the benchmarks (see bench/settings.py)."""

from django.http import HttpResponse
from django.urls import path

from contrat_ville.urls import urlpatterns as site_urlpatterns


def plancher(request):
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")


urlpatterns = [path("banc/plancher/", plancher, name="banc_plancher"), *site_urlpatterns]
