"""Forms of a contract's members page and of the invitation's page."""

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.db.models import Q

from comptes.models import Organisation, validate_siret
from comptes.roles import ROLES, Role

from ..models import Membre
from .fields import TextFormMixin

ROLE_CHOICES = [(role.value, f"{role.value} — {ROLES[role].description}") for role in Role]


class InvitationForm(TextFormMixin, forms.Form):
    email = forms.EmailField(
        label="Adresse électronique",
        help_text="Un lien d'invitation lui est envoyé à cette adresse.",
        error_messages={
            "required": "Indiquez l'adresse électronique de la personne à inviter.",
            "invalid": "Cette adresse électronique n'est pas valide.",
        },
    )
    role = forms.ChoiceField(
        label="Rôle", choices=ROLE_CHOICES, initial=Role.PARTENAIRE.value, widget=forms.RadioSelect
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Nouveau rôle", choices=Membre.ROLES)


class OrganisationPartenaireForm(TextFormMixin, forms.Form):
    """A whole organisation as Partenaire: found by its SIRET or its exact name."""

    organisation = forms.CharField(
        label="SIRET ou nom exact de l'organisation",
        max_length=200,
        help_text="Chacun de ses comptes pourra consulter les éditions publiées du contrat.",
        error_messages={"required": "Indiquez le SIRET ou le nom de l'organisation."},
    )

    def clean_organisation(self):
        text = self.cleaned_data["organisation"].strip()
        found = list(Organisation.objects.filter(Q(siret=text) | Q(nom__iexact=text))[:2])
        if not found:
            raise forms.ValidationError(
                "Aucune organisation ne porte ce SIRET ou ce nom : l'administration "
                "nationale crée les organisations, ou invitez une personne de celle-ci."
            )
        if len(found) > 1:
            raise forms.ValidationError(
                "Plusieurs organisations portent ce nom : indiquez plutôt le SIRET."
            )
        return found[0]


class NouveauCompteForm(TextFormMixin, forms.Form):
    """The account of someone invited who has none: who they are, where they work."""

    first_name = forms.CharField(label="Prénom", max_length=150)
    last_name = forms.CharField(label="Nom", max_length=150)
    organisation = forms.CharField(
        label="Organisation",
        max_length=200,
        help_text="Votre commune, intercommunalité, service de l'État, organisme, association…",
    )
    nature = forms.ChoiceField(
        label="Nature de l'organisation", choices=Organisation.Nature.choices
    )
    siret = forms.CharField(
        label="SIRET de l'organisation (facultatif)",
        required=False,
        max_length=14,
        validators=[validate_siret],
        help_text="14 chiffres ; laissez vide si votre organisation n'en a pas.",
    )
    password1 = forms.CharField(
        label="Mot de passe",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Confirmation du mot de passe",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, email, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean_first_name(self):
        return " ".join(self.cleaned_data["first_name"].split())  # one line, as a name is

    def clean_last_name(self):
        return " ".join(self.cleaned_data["last_name"].split())

    def clean(self):
        data = super().clean()
        password1, password2 = data.get("password1"), data.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", "Les deux mots de passe ne sont pas identiques.")
        elif password1:
            user = get_user_model()(
                username=self.email,
                email=self.email,
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
            )
            try:
                password_validation.validate_password(password1, user)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data
