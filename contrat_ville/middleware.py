"""A size limit on every request body, checked before the body is read.

Django reads a request's body only when a view (or the CSRF check) asks for request.POST;
without a limit of its own, a file part of any size in a multipart body is spooled to a
temporary file. This middleware refuses, from the Content-Length header alone and before
any view runs, a body larger than REQUEST_MAX_BODY_SIZE (413, a French page); the import
screen, the one page that takes a file, accepts the largest imported file plus that margin
(its own upload handler then stops at each kind of file's limit). A body without a length
(Transfer-Encoding: chunked) is refused (411): Django could not count it before reading.

The body is never read, so an oversized request costs a worker no more than its headers;
gunicorn's --timeout (Makefile, `serve`) ends a request whose body trickles in.
"""

from django.conf import settings
from django.template.response import TemplateResponse

from diagnostics.text import file_size, file_size_over

# The views that take a file, and therefore a larger body.
UPLOAD_VIEWS = {"diagnostics:import_nouveau"}
# The page of the QPV référentiel takes the national GeoJSON (tens of Mo).
REFERENTIEL_VIEWS = {"diagnostics:referentiel_quartiers"}
# The page of a consulted body takes its signed opinion (rapports.fichiers).
RAPPORTS_FICHIER_VIEWS = {"rapports:instance"}


def upload_limit():
    """The largest file the import screen accepts, plus the form's other fields."""
    from diagnostics.imports import natures  # the domain, loaded once the apps are

    largest = max(nature.max_file_size for nature in natures.all_natures())
    return largest + settings.REQUEST_MAX_BODY_SIZE


def body_limit(request):
    match = getattr(request, "resolver_match", None)
    if match is not None and match.view_name in UPLOAD_VIEWS:
        return upload_limit()
    if match is not None and match.view_name in REFERENTIEL_VIEWS:
        from diagnostics.quartiers.referentiel import max_file_size

        return max_file_size() + settings.REQUEST_MAX_BODY_SIZE
    if match is not None and match.view_name in RAPPORTS_FICHIER_VIEWS:
        return settings.RAPPORTS_FICHIER_MAX + settings.REQUEST_MAX_BODY_SIZE
    return settings.REQUEST_MAX_BODY_SIZE


def refuse(request, status, message):
    return TemplateResponse(
        request,
        "413.html",
        {"message": message, "status": status},
        status=status,
    )


class RequestBodyLimitMiddleware:
    """Before CsrfViewMiddleware, whose process_view reads request.POST."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        length = request.META.get("CONTENT_LENGTH") or ""
        if not length.strip():
            if request.META.get("HTTP_TRANSFER_ENCODING", "").strip():
                return refuse(
                    request,
                    411,
                    "La requête n’indique pas la taille de son contenu : elle a été refusée "
                    "sans être lue.",
                )
            return None
        try:
            size = int(length)
        except ValueError:
            size = -1
        if size < 0:
            return refuse(request, 400, "La taille annoncée du contenu de la requête est invalide.")
        limit = body_limit(request)
        if size > limit:
            return refuse(
                request,
                413,
                f"Le contenu envoyé ({file_size_over(size, limit)}) dépasse la taille acceptée "
                f"({file_size(limit)}) : il a été refusé sans être lu, rien n’a été enregistré.",
            )
        return None
