"""The user action that writes history rows: one identifier shared by every history row that
one request or one operation writes, so that the "Dernières modifications" page shows one
line per action (`reading.recent_actions`), whatever the number of rows it wrote (the
siblings a move renumbers, the items a thème's deletion takes with it).

Where the identifier comes from, first found:
- `action()`, a context manager for an operation run outside a request (a command, a
  script), or to group several operations as one;
- the request being served (simple_history's `HistoryRequestMiddleware` keeps it): every
  row written while serving one request shares one identifier;
- otherwise each row written by a save is an action of its own (`stamp_action`), but
  for the rows linked to an import or a deletion, and the rows written in bulk outside a
  request, which carry none: the page groups those by their import, their deletion, or
  their author and second.
"""

import uuid
from contextlib import contextmanager
from contextvars import ContextVar

from simple_history.models import HistoricalRecords

_current = ContextVar("history_action", default=None)


@contextmanager
def action():
    """Every history row written inside shares one action identifier (an enclosing
    action's, when there is one). Yields the identifier."""
    outer = current_action()
    if outer is not None:
        yield outer
        return
    token = _current.set(uuid.uuid4())
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def current_action():
    """The identifier of the action under way (`action()`, then the request being served),
    or None."""
    found = _current.get()
    if found is not None:
        return found
    request = getattr(HistoricalRecords.context, "request", None)
    if request is None:
        return None
    if not hasattr(request, "_history_action"):
        request._history_action = uuid.uuid4()
    return request._history_action


def stamp_action(sender, instance, history_instance, **kwargs):
    """Receiver of simple_history's `pre_create_historical_record` (connected by the app):
    the action under way, or a new one for this single row."""
    if not hasattr(history_instance, "action"):
        return  # a history table without the column (`HistoryLinks`)
    if history_instance.action is not None:
        return
    found = current_action()
    linked = any(
        getattr(history_instance, name, None) is not None
        for name in ("import_source_id", "annulation_de_id", "suppression_id")
    )
    # A row linked to its import or its deletion is grouped by that link.
    history_instance.action = found or (None if linked else uuid.uuid4())
