"""Account views that differ from Django's."""

from django.contrib.auth import views as auth_views

from .forms import ThrottledPasswordResetForm


class PasswordResetView(auth_views.PasswordResetView):
    """Django's, with its requests limited (comptes.forms.ThrottledPasswordResetForm)."""

    form_class = ThrottledPasswordResetForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}
