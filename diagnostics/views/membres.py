"""The members of a contract (its Administrateurs only) and the page of an invitation's
link (anyone holding it). The rules are in `diagnostics.membres`."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from comptes.accounts import declare_organisation
from comptes.roles import ROLES, Role

from .. import membres
from ..forms.membres import InvitationForm, NouveauCompteForm, OrganisationPartenaireForm, RoleForm
from ..models import Invitation, Membre
from .editions import ContratMixin

ADMIN_ONLY = "Seuls les administrateurs du contrat gèrent ses membres."


class MembresMixin(ContratMixin):
    administrateur_requis = True
    administrateur_message = ADMIN_ONLY

    def page(self):
        return reverse("diagnostics:membres", kwargs={"slug": self.contrat.slug})

    def membre(self):
        return get_object_or_404(
            Membre.objects.select_related("compte", "organisation"),
            contrat=self.contrat,
            pk=self.kwargs["pk"],
        )


class MembresView(MembresMixin, TemplateView):
    """Who takes part in the contract, the pending invitations, and the forms to invite a
    person, to add a partner organisation, to change a role."""

    template_name = "diagnostics/membres/membres.html"

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", InvitationForm())
        kwargs.setdefault("form_organisation", OrganisationPartenaireForm())
        return super().get_context_data(
            membres=membres.members(self.contrat),
            invitations=membres.pending_invitations(self.contrat),
            roles=[(role, ROLES[role].description) for role in Role],
            choix_roles=[role.value for role in Role],
            validite=membres.validity_days(),
            journal=membres.journal(self.contrat),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        form = InvitationForm(request.POST)
        if form.is_valid():
            try:
                invitation, _ = membres.invite(
                    self.contrat,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    invite_par=request.user,
                    request=request,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request,
                    f"Invitation envoyée à {invitation.email} ({invitation.role}) : "
                    f"le lien vaut {membres.validity_days()} jours.",
                )
                return HttpResponseRedirect(self.page())
        return self.render_to_response(self.get_context_data(form=form), status=400)


class OrganisationPartenaireView(MembresView):
    """Give a whole organisation the Partenaire role (a wrong entry: the members page
    again, with the form's error)."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        form = OrganisationPartenaireForm(request.POST)
        if not form.is_valid():
            context = self.get_context_data(form_organisation=form)
            return self.render_to_response(context, status=400)
        organisation = form.cleaned_data["organisation"]
        membres.add_member(self.contrat, role=Role.PARTENAIRE, organisation=organisation)
        messages.success(
            request,
            f"Les comptes de « {organisation} » consultent désormais le contrat (Partenaire).",
        )
        return HttpResponseRedirect(self.page())


class RoleView(MembresMixin, View):
    """Change a member's role."""

    def post(self, request, *args, **kwargs):
        membre = self.membre()
        form = RoleForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choisissez un rôle de la liste.")
            return HttpResponseRedirect(self.page())
        try:
            membres.change_role(membre, form.cleaned_data["role"])
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"{membre.titulaire} : rôle {form.cleaned_data['role']}.")
        return HttpResponseRedirect(self.page())


class RetirerView(MembresMixin, TemplateView):
    """Remove a member, after confirming."""

    template_name = "diagnostics/membres/retirer.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(membre=self.membre(), **kwargs)

    def post(self, request, *args, **kwargs):
        membre = self.membre()
        try:
            membres.remove_member(membre)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"{membre.titulaire} ne fait plus partie du contrat.")
        return HttpResponseRedirect(self.page())


class AnnulerInvitationView(MembresMixin, View):
    def post(self, request, *args, **kwargs):
        invitation = get_object_or_404(
            Invitation, contrat=self.contrat, pk=self.kwargs["pk"], acceptee_le=None
        )
        membres.cancel(invitation)
        messages.success(request, f"L'invitation de {invitation.email} est annulée.")
        return HttpResponseRedirect(self.page())


class InvitationView(TemplateView):
    """The page of an invitation's link: who invites, to what, with which role; signed in,
    one button accepts; without an account, a form creates one (with the invited
    address); with an account, the login page comes first."""

    template_name = "diagnostics/membres/invitation.html"

    def dispatch(self, request, *args, token, **kwargs):
        self.token = token
        self.invitation = membres.invitation_for(token)
        if self.invitation is None:
            return self.response_class(
                request=request,
                template=["diagnostics/membres/invitation_invalide.html"],
                context={"message": membres.INVITATION_UNUSABLE},
                using=self.template_engine,
                status=410,
            )
        self.compte_existant = membres.account_exists(self.invitation.email)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        if not self.request.user.is_authenticated and not self.compte_existant:
            kwargs.setdefault("form", NouveauCompteForm(email=self.invitation.email))
        return super().get_context_data(
            invitation=self.invitation,
            compte_existant=self.compte_existant,
            description=ROLES[Role(self.invitation.role)].description,
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            try:
                membre = membres.accept(self.token, request.user)
            except ValidationError as error:
                # Another account than the invited address's: refused, the link stays.
                raise PermissionDenied(" ".join(error.messages)) from error
            messages.success(
                request, f"Vous avez rejoint « {membre.contrat} » (rôle {membre.role})."
            )
            return HttpResponseRedirect(membre.contrat.get_absolute_url())
        if self.compte_existant:
            return redirect_to_login(request.get_full_path())
        form = NouveauCompteForm(request.POST, email=self.invitation.email)
        if form.is_valid():
            data = form.cleaned_data
            try:
                organisation = declare_organisation(
                    nom=data["organisation"], nature=data["nature"], siret=data["siret"]
                )
                user = membres.join_with_new_account(
                    self.token,
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    organisation=organisation,
                    password=data["password1"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(
                    request,
                    f"Votre compte est créé et vous avez rejoint « {self.invitation.contrat} ».",
                )
                return HttpResponseRedirect(self.invitation.contrat.get_absolute_url())
        return self.render_to_response(self.get_context_data(form=form), status=400)
