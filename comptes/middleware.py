"""Sessions end after SESSION_COOKIE_AGE seconds of inactivity.

Django sets a session's expiry when it saves it. Saving on every request
(SESSION_SAVE_EVERY_REQUEST) would cost a write per page; instead an active session is
saved again, which pushes its expiry back, at most every SESSION_ACTIVITY_REFRESH
seconds. A session therefore ends between SESSION_COOKIE_AGE minus that refresh period
and SESSION_COOKIE_AGE after its last request.
"""

import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY

ACTIVITY_KEY = "_derniere_activite"


def mark_activity(session):
    session[ACTIVITY_KEY] = int(time.time())


class SessionActivityMiddleware:
    """After AuthenticationMiddleware; its work is done on the way out."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # Only sessions this request already read (no extra query), of a signed-in user.
        if session is None or not session.accessed or SESSION_KEY not in session:
            return response
        last = session.get(ACTIVITY_KEY)
        if last is None or time.time() - last >= settings.SESSION_ACTIVITY_REFRESH:
            mark_activity(session)
        return response
