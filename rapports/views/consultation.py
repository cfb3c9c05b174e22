"""The consultation on a draft report: the bodies consulted, their opinions, the follow-up
given (`rapports.consultation` holds the rules), and the download of a signed opinion.

- `ConsultationView`: the list (sent on, deadline, opinion as the report prints it, late
  opinions said so, follow-up) for any reader of the report; the form to add a body, with
  the bodies the décret asks to consult offered as prefilled forms, for the Équipe ville
  and the Administrateurs (`acces.ecrit`).
- `InstanceView`: one body; the forms of its opinion (with the signed file), of its
  follow-up, and its removal. Each form carries the state it was drawn from (`jeton`):
  a form posted after someone else saved the body is refused.
- `FichierView`: the signed opinion, to the contract's members only (`acces.
  lit_les_fichiers`), as an attachment that no browser runs.

No JavaScript: each change is a POST answered by a redirect (and a message), or by the page
again with its errors (400).
"""

import logging
from pathlib import PurePath

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import TemplateView

from .. import acces, consultation
from ..forms import AvisForm, InstanceForm, SuiteForm, SupprimerForm
from ..models import Instance
from .mixins import RapportMixin

logger = logging.getLogger(__name__)

REFUS_ECRIT = (
    "Seules l'Équipe ville et les administrateurs du contrat tiennent le registre de la "
    "consultation."
)
ACTION_INCONNUE = "Le formulaire envoyé est illisible : rechargez la page, puis recommencez."


def ajouter_erreurs(form, error):
    """A domain `ValidationError` on the form: on its field when the form has it."""
    if hasattr(error, "error_dict"):
        for champ, erreurs in error.error_dict.items():
            form.add_error(champ if champ in form.fields else None, erreurs)
    else:
        form.add_error(None, error)


def ligne(instance, aujourd_hui):
    """What the pages show of a body."""
    return {
        "instance": instance,
        "avis": consultation.avis_affiche(instance, aujourd_hui),
        "repute_favorable": consultation.repute_favorable(instance, aujourd_hui),
        "en_retard": bool(instance.avis_date and instance.avis_date > instance.date_limite),
    }


class ConsultationMixin(RapportMixin):
    def url(self):
        return reverse(
            "rapports:consultation",
            kwargs={
                "slug": self.contrat.slug,
                "annee": self.rapport.annee,
                "version": self.rapport.version,
            },
        )

    def refus_ecrit(self):
        """None when the user keeps the consultation's record, else the refusal (the login
        page for an anonymous visitor, a 403 otherwise)."""
        if not acces.ecrit(self.request.user, self.contrat):
            return self.interdit(REFUS_ECRIT)
        return None

    def get_context_data(self, **kwargs):
        kwargs.setdefault("consultation_url", self.url())
        kwargs.setdefault("modifiable", self.rapport.en_cours)
        kwargs.setdefault(
            "en_consultation", self.rapport.statut == self.rapport.Statut.CONSULTATION
        )
        return super().get_context_data(**kwargs)


class ConsultationView(ConsultationMixin, TemplateView):
    template_name = "rapports/consultation.html"

    def get_context_data(self, **kwargs):
        aujourd_hui = timezone.localdate()
        instances = list(self.rapport.instances.all())
        ecrit = acces.ecrit(self.request.user, self.contrat)
        suggestions = (
            consultation.suggestions(self.rapport) if ecrit and self.rapport.en_cours else []
        )
        if "form" not in kwargs and ecrit and self.rapport.en_cours:
            kwargs["form"] = InstanceForm(initial=self.initial(suggestions, aujourd_hui))
        kwargs.update(
            lignes=[ligne(instance, aujourd_hui) for instance in instances],
            en_attente=consultation.en_attente(instances, aujourd_hui),
            suggestions=suggestions,
            ecrit=ecrit,
        )
        return super().get_context_data(**kwargs)

    def initial(self, suggestions, aujourd_hui):
        """The add form, prefilled by a suggestion's link (?suggestion=<its number>)."""
        initial = {"date_envoi": aujourd_hui}
        numero = self.request.GET.get("suggestion", "")
        if numero.isascii() and numero.isdigit() and int(numero[:4]) < len(suggestions):
            suggestion = suggestions[int(numero)]
            initial.update(nature=suggestion.nature, nom=suggestion.nom)
        return initial

    def post(self, request, *args, **kwargs):
        if refus := self.refus_ecrit():
            return refus
        form = InstanceForm(request.POST)
        if form.is_valid():
            try:
                instance = consultation.ajouter_instance(
                    self.rapport,
                    form.cleaned_data["nature"],
                    form.cleaned_data["nom"],
                    form.cleaned_data["date_envoi"],
                    form.cleaned_data["date_limite"],
                    user=request.user,
                )
            except ValidationError as error:
                ajouter_erreurs(form, error)
            else:
                messages.success(
                    request,
                    f"Instance ajoutée : {instance.nom}, avis attendu au plus tard le "
                    f"{instance.date_limite:%d/%m/%Y}.",
                )
                return HttpResponseRedirect(self.url())
        return self.render_to_response(self.get_context_data(form=form), status=400)


class InstanceView(ConsultationMixin, TemplateView):
    template_name = "rapports/instance.html"
    FORMS = {"avis": AvisForm, "suite": SuiteForm, "supprimer": SupprimerForm}

    def dispatch(self, request, *args, **kwargs):
        self.pk = kwargs["pk"]
        return super().dispatch(request, *args, **kwargs)

    def get_instance(self):
        return get_object_or_404(Instance, rapport=self.rapport, pk=self.pk)

    def get_context_data(self, **kwargs):
        instance = kwargs.pop("instance", None) or self.get_instance()
        jeton = consultation.jeton(instance)
        ecrit = acces.ecrit(self.request.user, self.contrat)
        kwargs.setdefault(
            "avis_form",
            AvisForm(
                initial={
                    "jeton": jeton,
                    "avis": instance.avis,
                    "avis_date": instance.avis_date or timezone.localdate(),
                    "avis_texte": instance.avis_texte,
                }
            ),
        )
        kwargs.setdefault(
            "suite_form", SuiteForm(initial={"jeton": jeton, "suite_donnee": instance.suite_donnee})
        )
        kwargs.setdefault("supprimer_form", SupprimerForm(initial={"jeton": jeton}))
        kwargs.update(
            instance=instance,
            ligne=ligne(instance, timezone.localdate()),
            ecrit=ecrit,
            fichier_lisible=acces.lit_les_fichiers(self.request.user, self.rapport),
            supprimable=self.rapport.en_cours and not instance.avis,
        )
        return super().get_context_data(**kwargs)

    def post(self, request, *args, **kwargs):
        if refus := self.refus_ecrit():
            return refus
        instance = self.get_instance()
        action = request.POST.get("action", "")
        form_class = self.FORMS.get(action)
        if form_class is None:
            messages.error(request, ACTION_INCONNUE)
            return self.render_to_response(self.get_context_data(instance=instance), status=400)
        form = form_class(request.POST, request.FILES)
        if form.is_valid():
            donnees = form.cleaned_data
            try:
                if action == "avis":
                    consultation.enregistrer_avis(
                        instance,
                        donnees["avis"],
                        donnees["avis_date"],
                        donnees["avis_texte"],
                        donnees["fichier"],
                        user=request.user,
                        jeton_lu=donnees["jeton"],
                    )
                    message = f"Avis de « {instance.nom} » enregistré."
                elif action == "suite":
                    consultation.enregistrer_suite(
                        instance,
                        donnees["suite_donnee"],
                        user=request.user,
                        jeton_lu=donnees["jeton"],
                    )
                    message = f"Suite donnée à l'avis de « {instance.nom} » enregistrée."
                else:
                    consultation.supprimer_instance(
                        instance, user=request.user, jeton_lu=donnees["jeton"]
                    )
                    messages.success(request, f"« {instance.nom} » retirée de la consultation.")
                    return HttpResponseRedirect(self.url())
            except ValidationError as error:
                ajouter_erreurs(form, error)
            else:
                messages.success(request, message)
                return HttpResponseRedirect(self.request.path)
        noms = {"avis": "avis_form", "suite": "suite_form", "supprimer": "supprimer_form"}
        context = self.get_context_data(instance=instance, **{noms[action]: form})
        return self.render_to_response(context, status=400)


class FichierView(RapportMixin, View):
    """The signed opinion: to the contract's members only, never run by the browser."""

    def get(self, request, *args, **kwargs):
        if not acces.lit_les_fichiers(request.user, self.rapport):
            return self.refuse()
        instance = get_object_or_404(Instance, rapport=self.rapport, pk=kwargs["pk"])
        if not instance.fichier:
            raise Http404("Cette instance n'a pas de fichier d'avis.")
        try:
            contenu = instance.fichier.storage.open(instance.fichier.name, "rb")
        except OSError as error:
            logger.error("Avis signé introuvable : %s (%s)", instance.fichier.name, error)
            raise Http404("Ce fichier est introuvable.") from error
        response = FileResponse(
            contenu,
            as_attachment=True,
            filename=instance.fichier_nom or "avis" + PurePath(instance.fichier.name).suffix,
            content_type=instance.fichier_type or "application/octet-stream",
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "sandbox"
        response["Cache-Control"] = "private, no-store"
        return response
