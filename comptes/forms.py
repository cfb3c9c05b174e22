"""The login forms of the site and of the admin, both throttled (comptes.throttling)."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from comptes.roles import is_administrateur

from .throttling import client_address, lock_message, lock_remaining


class ThrottledLoginMixin:
    """While the account name or the address is locked, no password is checked."""

    def clean(self):
        remaining = lock_remaining(self.cleaned_data.get("username"), client_address(self.request))
        if remaining is not None:
            raise forms.ValidationError(lock_message(remaining), code="throttled")
        return super().clean()


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The admin is reserved to the Administrateur role (superusers hold it too)."""

    def confirm_login_allowed(self, user):
        AuthenticationForm.confirm_login_allowed(self, user)
        if not is_administrateur(user):
            raise forms.ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )
