"""Who takes part in a contract: memberships and invitations, the rules that views, the
admin and the commands all call.

- A contract's Administrateur (or the national administrator) invites someone by e-mail
  with a role; the link of the invitation holds a secret (only its hash is kept), expires
  after `settings.INVITATION_VALIDITY` seconds and serves once. Whoever opens it signed in
  takes the role; someone without an account creates one there.
- A role is changed or removed with history (`Membre.history`); the last Administrateur
  of a contract can be neither demoted nor removed: a contract is never left without one.
- Whoever creates a contract (a new diagnostic by import) becomes its Administrateur.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from comptes.accounts import create_account
from comptes.roles import Role, is_national_admin

from .access import forget_roles
from .models import Contrat, Invitation, Membre

LAST_ADMINISTRATOR = (
    "Ce contrat n'aurait plus d'administrateur : nommez-en un autre avant de retirer ou de "
    "changer le rôle du dernier."
)
INVITATION_UNUSABLE = (
    "Ce lien d'invitation n'est plus valable : il a expiré ou a déjà servi. "
    "Demandez une nouvelle invitation à l'administrateur du contrat."
)
OTHER_ADDRESS = (
    "Cette invitation est adressée à {email} : connectez-vous avec le compte de cette "
    "adresse pour l'accepter."
)


def _digest(token):
    return hashlib.sha256(token.encode()).hexdigest()


def members(contrat):
    """The memberships of a contract, people and organisations, by role then name."""
    order = {role.value: i for i, role in enumerate(Role)}
    rows = list(
        Membre.objects.filter(contrat=contrat).select_related(
            "compte__profil__organisation", "organisation"
        )
    )
    return sorted(rows, key=lambda m: (order[m.role], m.titulaire.casefold()))


def pending_invitations(contrat):
    return Invitation.objects.filter(
        contrat=contrat, acceptee_le=None, expire_le__gt=timezone.now()
    ).select_related("invite_par")


def _check_administrators_remain(contrat, leaving):
    """Refuse a change that would leave the contract without an Administrateur (the
    contract's memberships are locked by the caller's transaction)."""
    others = (
        Membre.objects.select_for_update()
        .filter(contrat=contrat, role=Role.ADMINISTRATEUR.value)
        .exclude(pk=leaving.pk)
    )
    if leaving.role == Role.ADMINISTRATEUR.value and not others.exists():
        raise ValidationError(LAST_ADMINISTRATOR, code="dernier_administrateur")


def _locked(contrat):
    return Contrat.objects.select_for_update().get(pk=contrat.pk)


def add_member(contrat, *, role, compte=None, organisation=None):
    """Give a person (or an organisation, as Partenaire) a role on the contract; an
    existing membership of theirs changes role. Returns the membership."""
    role = Role(role)
    with transaction.atomic():
        _locked(contrat)
        holder = {"compte": compte} if compte is not None else {"organisation": organisation}
        membre = Membre.objects.filter(contrat=contrat, **holder).first()
        if membre is None:
            membre = Membre(contrat=contrat, role=role.value, **holder)
            membre.full_clean()
            membre.save()
        elif membre.role != role.value:
            change_role(membre, role)
    if compte is not None:
        forget_roles(compte)
    return membre


def change_role(membre, role):
    role = Role(role)
    with transaction.atomic():
        _locked(membre.contrat)
        membre = Membre.objects.select_for_update().get(pk=membre.pk)
        if membre.role == role.value:
            return membre
        if role != Role.ADMINISTRATEUR:
            _check_administrators_remain(membre.contrat, membre)
        membre.role = role.value
        membre.full_clean()
        membre.save(update_fields=["role", "updated_at"])
    return membre


def remove_member(membre):
    with transaction.atomic():
        _locked(membre.contrat)
        membre = Membre.objects.select_for_update().get(pk=membre.pk)
        _check_administrators_remain(membre.contrat, membre)
        membre.delete()


def make_creator_administrator(contrat, user):
    """Whoever creates a contract administers it (the national administrator needs no
    membership)."""
    if user is not None and not is_national_admin(user):
        add_member(contrat, role=Role.ADMINISTRATEUR, compte=user)


# Invitations ---------------------------------------------------------------------------------


def invite(contrat, *, email, role, invite_par, request=None):
    """Record an invitation and send its link by e-mail. Returns (invitation, link)."""
    role = Role(role)
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        contrat=contrat,
        email=email.strip(),
        role=role.value,
        empreinte=_digest(token),
        expire_le=timezone.now() + timedelta(seconds=settings.INVITATION_VALIDITY),
        invite_par=invite_par,
    )
    invitation.full_clean()
    path = reverse("invitation", kwargs={"token": token})
    link = request.build_absolute_uri(path) if request is not None else settings.SITE_URL + path
    with transaction.atomic():
        invitation.save()
        context = {"invitation": invitation, "lien": link, "validite": validity_days()}
        send_mail(
            # One line: a header never holds a line break (a name may, typed elsewhere).
            subject=f"Invitation au contrat de ville « {' '.join(contrat.nom.split())} »",
            message=render_to_string("diagnostics/membres/invitation_email.txt", context),
            from_email=None,
            recipient_list=[invitation.email],
        )
    return invitation, link


def validity_days():
    return max(1, settings.INVITATION_VALIDITY // 86400)


def invitation_for(token):
    """The usable invitation of this link, else None (unknown, expired or used)."""
    if not token or len(token) > 100 or not token.isascii():
        return None
    invitation = (
        Invitation.objects.select_related("contrat", "invite_par")
        .filter(empreinte=_digest(token))
        .first()
    )
    return invitation if invitation is not None and invitation.est_utilisable else None


def accept(token, user):
    """The signed-in `user` takes the role of the invitation; once only. Returns the
    membership; ValidationError when the link is no longer usable."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().filter(empreinte=_digest(token)).first()
        if invitation is None or not invitation.est_utilisable:
            raise ValidationError(INVITATION_UNUSABLE, code="invitation")
        if invitation.email.casefold() != (user.email or "").casefold():
            raise ValidationError(
                OTHER_ADDRESS.format(email=invitation.email), code="autre_adresse"
            )
        existing = Membre.objects.filter(contrat=invitation.contrat, compte=user).first()
        role = Role(invitation.role)
        if existing is None or _rank(role) < _rank(Role(existing.role)):
            try:
                with transaction.atomic():
                    membre = add_member(invitation.contrat, role=role, compte=user)
            except IntegrityError:  # the same person accepting twice at once
                membre = Membre.objects.get(contrat=invitation.contrat, compte=user)
        else:
            membre = existing  # an invitation never lowers a role already held
        invitation.acceptee_le = timezone.now()
        invitation.acceptee_par = user
        invitation.save(update_fields=["acceptee_le", "acceptee_par", "updated_at"])
    forget_roles(user)
    return membre


def cancel(invitation):
    invitation.delete()


def _rank(role):
    return list(Role).index(role)


ACCOUNT_EXISTS = (
    "Un compte existe déjà pour cette adresse électronique : connectez-vous pour accepter "
    "l'invitation."
)


def join_with_new_account(token, *, first_name, last_name, organisation, password):
    """Someone invited without an account creates one (username and e-mail: the invited
    address) and takes the role, in one transaction. Returns the new account;
    ValidationError when the link is no longer usable or the address has an account."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().filter(empreinte=_digest(token)).first()
        if invitation is None or not invitation.est_utilisable:
            raise ValidationError(INVITATION_UNUSABLE, code="invitation")
        if account_exists(invitation.email):
            raise ValidationError(ACCOUNT_EXISTS, code="compte_existant")
        user = create_account(
            email=invitation.email,
            first_name=first_name,
            last_name=last_name,
            organisation=organisation,
            password=password,
        )
        accept(token, user)
    return user


def account_exists(email):
    User = get_user_model()
    return User.objects.filter(Q(email__iexact=email) | Q(username__iexact=email)).exists()


JOURNAL_LENGTH = 50
ACTIONS = {"+": "rôle donné", "~": "rôle changé", "-": "retiré"}


def journal(contrat):
    """The latest changes of the contract's memberships, from their history: [{date,
    titulaire, role, action, par}], latest first."""
    rows = (
        Membre.history.filter(contrat_id=contrat.pk)
        .select_related("compte", "organisation", "history_user")
        .order_by("-history_date", "-history_id")[:JOURNAL_LENGTH]
    )
    return [
        {
            "date": row.history_date,
            "titulaire": _holder(row),
            "role": row.role,
            "action": ACTIONS[row.history_type],
            "par": row.history_user,
        }
        for row in rows
    ]


def has_pending_invitation(email):
    """Whether a usable invitation is addressed to this e-mail: ProConnect creates an
    account on a first login only then (settings.PROCONNECT_ACCOUNT_POLICY)."""
    email = (email or "").strip()
    if not email:
        return False
    return any(
        invitation.est_utilisable
        for invitation in Invitation.objects.filter(email__iexact=email, acceptee_le=None)
    )


def _holder(row):
    """Who a history row of a membership is about, as the pages name them."""
    if row.compte is not None:
        return row.compte.get_full_name() or row.compte.get_username()
    if row.organisation is not None:
        return row.organisation.nom
    return "compte supprimé"
