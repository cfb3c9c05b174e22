"""Template helpers of the site's layout."""

from django import template
from django.db.models import Count, Exists, OuterRef, Q

from comptes.roles import Role, is_national_admin

from ..access import (
    administers_somewhere,
    can_administer,
    roles_by_contract,
    roles_on,
    visible_diagnostics,
)
from ..models import Theme

register = template.Library()


@register.simple_tag(takes_context=True)
def roles_utilisateur(context):
    """The user's roles as the interface names them: on the contract of the page's
    diagnostic when there is one ("Équipe ville"), else every role held on some contract."""
    user, diagnostic = context.get("user"), context.get("diagnostic")
    if not getattr(user, "is_authenticated", False):
        return ""
    if is_national_admin(user):
        return "Administration nationale"
    if diagnostic is not None and getattr(diagnostic, "contrat_id", None):
        held = roles_on(user, diagnostic.contrat_id)
    else:
        held = {role for roles in roles_by_contract(user).values() for role in roles}
    return ", ".join(role.value for role in Role if role in held)


@register.filter(name="administration_nationale")
def national_admin_filter(user):
    """Whether the user may enter the admin (the "Administration" link)."""
    return is_national_admin(user)


@register.filter
def administre(user, diagnostic=None):
    """Whether the user administers this diagnostic's contract, or (without one) some
    contract (the "Imports" menu)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if diagnostic is not None:
        return can_administer(user, diagnostic)
    return administers_somewhere(user)


@register.simple_tag(takes_context=True)
def lecteur(context):
    """What the header offers besides the home ({"recherche": …, "listes": …}): everything
    to an account; to an anonymous visitor, the search when some diagnostic is public, the
    lists of difficultés and indicateurs when one of them holds thèmes (else these pages
    send them to the login page, and the header offers the home and the login alone). One
    query for an anonymous visitor, once per request; none without a request (500.html)."""
    request, user = context.get("request"), context.get("user")
    if request is None or getattr(user, "is_authenticated", False):
        return {"recherche": True, "listes": True}
    if not hasattr(request, "_lecteur_anonyme"):
        counts = visible_diagnostics(user).aggregate(
            lisibles=Count("pk"),
            avec_themes=Count(
                "pk", filter=Q(Exists(Theme.objects.filter(diagnostic=OuterRef("pk"))))
            ),
        )
        request._lecteur_anonyme = {
            "recherche": bool(counts["lisibles"]),
            "listes": bool(counts["avec_themes"]),
        }
    return request._lecteur_anonyme
