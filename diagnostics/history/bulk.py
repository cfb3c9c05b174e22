"""Writing many new rows at once, each with its history row ("+"), whatever wrote them.

On PostgreSQL the rows and their history rows go by COPY, their ids taken from the table's
sequence beforehand and set on the instances: no instance goes through the ORM's INSERT
machinery. Elsewhere by `bulk_create` and simple_history's `bulk_create_with_history`.
Either way the instances come back with their ids, their dates as `bulk_create` gives
them, and their history rows carry the reason, the author, the date and the links given
(`HistoryLinks`: {"import_source_id": …}) and the action under way (`actions`), if any.
"""

from django.db import connection
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from .actions import current_action

BATCH_SIZE = 2_000


def create_with_history(model, instances, *, user_id, reason, links=None, date=None):
    if not instances:
        return
    date = date or timezone.now()
    links = links or {}
    if (
        getattr(model, "history", None) is not None
        and "action" not in links
        and hasattr(model.history.model, "action")
    ):
        links = {**links, "action": current_action()}
    if connection.vendor == "postgresql":
        _copy_rows(model, instances, date)
        if getattr(model, "history", None) is not None:
            _copy_history(model, instances, user_id, reason, links, date)
        return
    history = getattr(model, "history", None)
    if history is None:
        model.objects.bulk_create(instances, batch_size=BATCH_SIZE)
        return
    bulk_create_with_history(
        instances,
        model,
        batch_size=BATCH_SIZE,
        default_user=None if user_id is None else _user(user_id),
        default_change_reason=reason,
        default_date=date,
        custom_historical_attrs=links,
    )


def _user(user_id):
    from django.contrib.auth import get_user_model

    return get_user_model()(pk=user_id)


def _copy_rows(model, instances, now):
    opts = model._meta
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [opts.db_table, opts.pk.column, len(instances)],
        )
        for instance, (pk,) in zip(instances, cursor.fetchall(), strict=True):
            instance.pk = pk
            for field in opts.concrete_fields:  # auto_now(_add): as their pre_save sets them
                if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                    setattr(instance, field.attname, now)
            instance._state.adding = False
        _copy(cursor, quote(opts.db_table), opts.concrete_fields, instances)


def _copy_history(model, instances, user_id, reason, links, date):
    quote = connection.ops.quote_name
    tracked = model.history.model.tracked_fields
    extra = {
        "history_date": date,
        "history_change_reason": reason,
        "history_type": "+",
        "history_user_id": user_id,
        **links,
    }
    columns = ", ".join([quote(field.column) for field in tracked] + list(extra))
    table = quote(model.history.model._meta.db_table)
    with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for instance in instances:
            copy.write_row([getattr(instance, f.attname) for f in tracked] + list(extra.values()))


def _copy(cursor, table, fields, instances):
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for instance in instances:
            copy.write_row([getattr(instance, field.attname) for field in fields])
