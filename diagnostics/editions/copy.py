"""A new edition of a contract's diagnostic, started from its latest edition.

`start_edition` copies, in one transaction, every pilier, thème, sous-thème and item of
the latest edition (with their quartiers), and the values that belong to an edition
(`Kind.copied_with_edition`: an indicator's references and targets). Each copy keeps the
item it came from (`origine`) and its lineage (`lignee`). Rows and history rows are
written in bulk (`diagnostics.history.bulk`), level by level: the number of queries does
not grow with the size of the diagnostic.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from .. import kinds
from ..access import forget_roles
from ..backup import history_m2m_models
from ..history.bulk import create_with_history
from ..models import LIBELLE_MAX_LENGTH, Contrat, Diagnostic, free_slug

Statut = Diagnostic.Statut

# Fields of a level or an item that a copy does not take from its original.
NOT_COPIED = {"id", "diagnostic", "created_at", "updated_at", "version", "origine"}

ONE_DRAFT = (
    "Ce contrat a déjà une édition en brouillon : publiez-la ou supprimez-la avant d'en "
    "commencer une autre."
)


def latest_edition(contrat):
    return contrat.editions.order_by("-date_edition", "-pk").first()


def start_edition(contrat, *, nom, date, user):
    """The new draft edition of `contrat`, copied from its latest edition.

    Refused (French ValidationError, nothing written) when the contract has no edition
    yet, already has a draft, or already has an edition of that name; when two
    administrators start one at the same moment, one wins and the other is refused.
    """
    nom = " ".join((nom or "").split())
    if not nom:
        raise ValidationError("Donnez un nom à la nouvelle édition.", code="nom")
    try:
        with transaction.atomic():
            edition = _start(contrat, nom, date, user)
    except IntegrityError as error:  # a concurrent start got there first
        raise ValidationError(ONE_DRAFT) from error
    if user is not None:
        forget_roles(user)  # the roles read this request know not the new edition
    return edition


def _start(contrat, nom, date, user):
    contrat = Contrat.objects.select_for_update().get(pk=contrat.pk)
    if contrat.editions.filter(statut=Statut.BROUILLON).exists():
        raise ValidationError(ONE_DRAFT)
    if contrat.editions.filter(nom_edition=nom).exists():
        raise ValidationError("Ce contrat a déjà une édition portant ce nom.", code="nom")
    source = latest_edition(contrat)
    if source is None:
        raise ValidationError("Ce contrat n'a pas encore d'édition à reprendre.")
    now = timezone.now()
    edition = Diagnostic(
        contrat=contrat,
        titre=f"{contrat.nom} — {nom}"[:LIBELLE_MAX_LENGTH],
        slug=free_slug(Diagnostic, slugify(f"{contrat.slug}-{date.year}")[:90]),
        territoire=source.territoire,
        annee_debut=source.annee_debut,
        annee_fin=source.annee_fin,
        statut=Statut.BROUILLON,
        est_public=source.est_public,
        nom_edition=nom,
        date_edition=date,
        precedente=source,
    )
    edition._history_user = user
    edition._change_reason = f"Édition commencée à partir de « {source.nom_edition} »"
    edition.save()
    # The copies' history rows are dated when the edition was started: what comes after
    # is a change made in it (`states.draft_deletion`).
    Diagnostic.objects.filter(pk=edition.pk).update(created_at=now)
    edition.created_at = now
    edition.quartiers.set(source.quartiers.all())
    _copy_contents(source, edition, user, now)
    return edition


def _copy_contents(source, edition, user, now):
    reason = f"Copie de l'édition « {source.nom_edition} »"
    new_pk = {}  # (kind key, old pk) -> new pk
    for kind in kinds.structure():
        model = kind.model
        originals = list(model.objects.filter(diagnostic=source).order_by("pk"))
        fields = [f for f in model._meta.concrete_fields if f.name not in NOT_COPIED]
        copies = []
        for original in originals:
            copy = model(diagnostic_id=edition.pk, origine_id=original.pk, version=1)
            for field in fields:
                setattr(copy, field.attname, getattr(original, field.attname))
            for parent_key in ("pilier", "theme", "sous_theme"):
                attname = f"{parent_key}_id"
                old = getattr(copy, attname, None)
                if old is not None and any(f.attname == attname for f in fields):
                    setattr(copy, attname, new_pk[parent_key, old])
            copies.append(copy)
        create_with_history(
            model, copies, user_id=getattr(user, "pk", None), reason=reason, date=now
        )
        for original, copy in zip(originals, copies, strict=True):
            new_pk[kind.key, original.pk] = copy.pk
        if kind.is_item:
            _copy_quartiers(model, kind, new_pk, source, now)
            for value_kind in kinds.values_of(kind):
                _copy_values(value_kind, kind, new_pk, source, user, reason, now)


def _copy_quartiers(model, kind, new_pk, source, now):
    """The copies' quartiers, and the same on their creation history rows."""
    through = model.quartiers.through
    column = f"{model._meta.model_name}_id"
    links = through.objects.filter(**{f"{model._meta.model_name}__diagnostic": source})
    copies = through.objects.bulk_create(
        [
            through(
                **{column: new_pk[kind.key, getattr(link, column)], "quartier_id": link.quartier_id}
            )
            for link in links.order_by("pk")
        ],
        batch_size=2_000,
    )
    m2m_histories = history_m2m_models(model)
    if not copies or not m2m_histories:
        return
    records = dict(
        model.history.filter(
            id__in={getattr(link, column) for link in copies}, history_date=now, history_type="+"
        ).values_list("id", "history_id")
    )
    for m2m in m2m_histories:
        m2m.objects.bulk_create(
            [
                m2m(
                    id=link.pk,
                    **{column: getattr(link, column)},
                    quartier_id=link.quartier_id,
                    history_id=records[getattr(link, column)],
                )
                for link in copies
            ],
            batch_size=2_000,
        )


def _copy_values(value_kind, item_kind, new_pk, source, user, reason, now):
    if value_kind.copied_with_edition is None:
        return
    model = value_kind.model
    parent = f"{value_kind.parent}_id"
    originals = model.objects.filter(value_kind.copied_with_edition).filter(
        **{f"{value_kind.parent}__diagnostic": source}
    )
    copies = []
    for original in originals.order_by("pk"):
        copy = model()
        for field in model._meta.concrete_fields:
            if field.name not in {"id", "created_at", "updated_at", "version"}:
                setattr(copy, field.attname, getattr(original, field.attname))
        setattr(copy, parent, new_pk[item_kind.key, getattr(original, parent)])
        copies.append(copy)
    create_with_history(model, copies, user_id=getattr(user, "pk", None), reason=reason, date=now)
