"""The pages of the annual reports: a contract's reports, one report (its printable page),
a section's editor, the state changes and the contributions asked of partners. The
rules are in `rapports.etats`, `rapports.acces` and `rapports.document`; the views read
forms, call them and show their French messages."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.views import View
from django.views.generic import TemplateView

from comptes.roles import Role
from diagnostics.access import visible_contrats
from diagnostics.models import Membre

from .. import acces, consultation, document, etats, sections
from ..balisage import vers_syntaxe
from ..documents import FORMATS
from ..forms import AdoptionForm, CommencerForm, ContributionForm, SectionForm
from .mixins import ContratRapportsMixin, RapportMixin


def _erreurs(error):
    return error.messages if isinstance(error, ValidationError) else [str(error)]


class ListeView(ContratRapportsMixin, TemplateView):
    """The reports of a contract the user may read, newest year first, and for its
    Administrateurs the form starting the report of a year."""

    template_name = "rapports/liste.html"

    def lisibles(self):
        return acces.rapports_lisibles(self.request.user, self.contrat).order_by(
            "-annee", "-version"
        )

    def accessible(self):
        user = self.request.user
        return (
            visible_contrats(user).filter(pk=self.contrat.pk).exists() or self.lisibles().exists()
        )

    def get(self, request, *args, **kwargs):
        if not self.accessible():
            return self.refuse()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        if not self.accessible():
            return self.refuse()
        if not acces.decide(request.user, self.contrat):
            return self.interdit("Seuls les administrateurs du contrat commencent un rapport.")
        form = CommencerForm(self.contrat, request.POST)
        if form.is_valid():
            try:
                rapport = etats.commencer(
                    self.contrat, form.cleaned_data["annee"], request.user, form.cleaned_data["dsu"]
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"Le rapport annuel {rapport.annee} est commencé.")
                return HttpResponseRedirect(rapport.get_absolute_url())
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def get_context_data(self, **kwargs):
        decide = acces.decide(self.request.user, self.contrat)
        if decide:
            kwargs.setdefault("form", CommencerForm(self.contrat))
        return super().get_context_data(rapports=list(self.lisibles()), decide=decide, **kwargs)


class DerniereVersionView(ContratRapportsMixin, View):
    """/rapports/<année>/: the latest version of that year the user may read."""

    def get(self, request, *args, **kwargs):
        rapport = (
            acces.rapports_lisibles(request.user, self.contrat)
            .filter(annee=kwargs["annee"])
            .order_by("-version")
            .first()
        )
        if rapport is None:
            return self.refuse()
        return HttpResponseRedirect(rapport.get_absolute_url())


class RapportView(RapportMixin, TemplateView):
    """The report as one printable page: its sections in the décret's order, each with its
    text and generated part, the contributions, the annex of opinions; and the actions
    of its state for those who may act."""

    template_name = "rapports/rapport.html"

    def get_context_data(self, **kwargs):
        rapport, user = self.rapport, self.request.user
        rapport.contrat = self.contrat
        doc = document.construire(rapport)
        droits = self.droits()
        instances = list(rapport.instances.all()) if droits["membre"] else []
        attente = consultation.en_attente(instances)
        mes_contributions = {s.pk for s in acces.contributions_de(user, rapport)}
        partenaires = []
        if droits["ecrit"] and rapport.en_cours:
            partenaires = list(
                Membre.objects.filter(contrat=self.contrat, role=Role.PARTENAIRE.value)
                .select_related("compte", "organisation")
                .order_by("pk")
            )
        autres = list(
            acces.rapports_lisibles(user, self.contrat)
            .filter(annee=rapport.annee)
            .exclude(pk=rapport.pk)
            .order_by("-version")
        )
        kwargs.setdefault("adoption_form", AdoptionForm())
        return super().get_context_data(
            document=doc,
            droits=droits,
            instances=instances,
            en_attente=attente,
            mes_contributions=mes_contributions,
            contribution_form=ContributionForm(partenaires) if partenaires else None,
            autres_versions=autres,
            formats=[(cle, format_.libelle) for cle, format_ in FORMATS.items()],
            **kwargs,
        )


class SectionView(RapportMixin, TemplateView):
    """A section's editor: the décret's sections for the Équipe ville and the
    Administrateurs, a contribution for the partner it was asked of."""

    template_name = "rapports/section.html"

    def resolve_section(self):
        section = get_object_or_404(self.rapport.sections, pk=self.kwargs["pk"])
        user = self.request.user
        if section.est_contribution:
            allowed = section.pk in {s.pk for s in acces.contributions_de(user, self.rapport)}
            message = "Seul le partenaire sollicité rédige sa contribution."
        else:
            allowed = acces.ecrit(user, self.contrat)
            message = "Seuls l'équipe ville et les administrateurs rédigent le rapport."
        if not allowed:
            raise PermissionDenied(message)
        return section

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        section = self.resolve_section()
        form = SectionForm(
            initial={
                "texte": vers_syntaxe(section.texte),
                "revision": section.revision,
                "titre": section.titre,
            },
            contribution=section.est_contribution,
        )
        return self.render_to_response(self.get_context_data(section=section, form=form))

    def post(self, request, *args, **kwargs):
        section = self.resolve_section()
        form = SectionForm(request.POST, contribution=section.est_contribution)
        if form.is_valid():
            try:
                etats.enregistrer_section(
                    section,
                    form.cleaned_data["texte"],
                    form.cleaned_data["revision"],
                    request.user,
                    titre=form.cleaned_data.get("titre") or None,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"Section « {section.titre} » enregistrée.")
                ancre = (
                    f"contribution-{section.pk}"
                    if section.est_contribution
                    else f"section-{section.cle}"
                )
                return HttpResponseRedirect(f"{self.rapport.get_absolute_url()}#{ancre}")
        return self.render_to_response(
            self.get_context_data(section=section, form=form), status=400
        )

    def get_context_data(self, **kwargs):
        section = kwargs["section"]
        return super().get_context_data(
            du_decret=sections.PAR_CLE.get(section.cle),
            modifiable=self.rapport.en_cours,
            **kwargs,
        )


class EtatView(RapportMixin, View):
    """POST: send to consultation, adopt, publish, or start a new version (the contract's
    Administrateurs). Refusals come back as messages on the report's page."""

    requis = "decide"
    refus = "Seuls les administrateurs du contrat changent l'état d'un rapport."
    ACTIONS = {"consultation", "adopter", "publier", "nouvelle_version"}

    def post(self, request, *args, **kwargs):
        action = request.POST.get("action", "")
        if action not in self.ACTIONS:
            messages.error(request, "Action inconnue : rien n'a été changé.")
            return HttpResponseRedirect(self.rapport.get_absolute_url())
        cible = self.rapport
        try:
            if action == "consultation":
                etats.mettre_en_consultation(self.rapport, request.user)
                message = "Le projet de rapport est en consultation."
            elif action == "adopter":
                form = AdoptionForm(request.POST)
                if not form.is_valid():
                    raise ValidationError([e for errors in form.errors.values() for e in errors])
                etats.adopter(
                    self.rapport,
                    request.user,
                    form.cleaned_data["date_deliberation"],
                    form.cleaned_data["instance_deliberante"],
                )
                message = "Le rapport est adopté : son contenu est désormais figé."
            elif action == "publier":
                etats.publier(self.rapport, request.user)
                message = "Le rapport est publié : sa page et son PDF sont publics."
            else:
                cible = etats.nouvelle_version(self.rapport, request.user)
                message = f"La version {cible.version} du rapport est commencée."
        except ValidationError as error:
            for text in _erreurs(error):
                messages.error(request, text)
        else:
            messages.success(request, message)
        return HttpResponseRedirect(cible.get_absolute_url())


class ContributionView(RapportMixin, View):
    """POST: ask a partner of the contract for a contribution (Équipe ville,
    Administrateurs)."""

    requis = "ecrit"
    refus = "Seuls l'équipe ville et les administrateurs sollicitent des contributions."

    def post(self, request, *args, **kwargs):
        partenaires = Membre.objects.filter(
            contrat=self.contrat, role=Role.PARTENAIRE.value
        ).select_related("compte", "organisation")
        form = ContributionForm(list(partenaires), request.POST)
        if form.is_valid():
            try:
                section = etats.demander_contribution(
                    self.rapport,
                    form.cleaned_data["membre"],
                    form.cleaned_data["titre"],
                    request.user,
                )
            except ValidationError as error:
                for text in _erreurs(error):
                    messages.error(request, text)
            else:
                messages.success(
                    request, f"Contribution « {section.titre} » demandée à {section.auteur}."
                )
        else:
            for errors in form.errors.values():
                for text in errors:
                    messages.error(request, text)
        return HttpResponseRedirect(f"{self.rapport.get_absolute_url()}#section-actions")
