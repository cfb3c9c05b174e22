"""The login forms of the site and of the admin, both throttled (comptes.throttling)."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm

from comptes.roles import is_national_admin

from .throttling import attempt, client_address, lock_message, reset_message, reset_request


class ThrottledLoginMixin:
    """While the account name or the address is locked, no password is checked. The
    attempt is recorded before the check (`throttling.attempt`): parallel attempts cannot
    check more passwords than the limit."""

    def clean(self):
        username = self.cleaned_data.get("username")
        with attempt(self.request, username, client_address(self.request)) as remaining:
            if remaining is not None:
                raise forms.ValidationError(lock_message(remaining), code="throttled")
            return super().clean()


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The admin is reserved to the national administrator."""

    def confirm_login_allowed(self, user):
        AuthenticationForm.confirm_login_allowed(self, user)
        if not is_national_admin(user):
            raise forms.ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


class ThrottledPasswordResetForm(PasswordResetForm):
    """Reset requests are limited per e-mail address typed and per client address; the
    refusal is the same whether an account has that e-mail or not."""

    def __init__(self, *args, request=None, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned_data = super().clean()
        email = cleaned_data.get("email")
        if email and not reset_request(email, client_address(self.request)):
            raise forms.ValidationError(reset_message(), code="throttled")
        return cleaned_data
