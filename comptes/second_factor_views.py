"""The site's password login and its second factor (comptes.second_factor).

connexion/                        LoginView: the password; then, for who needs it, not
                                  signed in yet: on to the second factor.
connexion/second-facteur/         the code of the authenticator, or a recovery code.
connexion/second-facteur/activer/ setting up an authenticator (QR code and key), then the
                                  recovery codes, shown once.
compte/second-facteur/            a signed-in user's second factor: its state, new recovery
                                  codes, a new authenticator (both after a current code).
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from . import second_factor as factor
from .forms import LoginForm

EXPIRED = (
    "Le délai pour saisir le second facteur est dépassé : saisissez à nouveau votre "
    "identifiant et votre mot de passe."
)


def safe_next(request, url):
    """Where to go after signing in: `url` if it is of this site, else the default."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def back_to_login(request, had_pending):
    """The pending login is gone: to the login page, saying why if it expired."""
    if had_pending or request.method == "POST":
        messages.warning(request, EXPIRED)
    return redirect("login")


def recovery_codes_page(request, codes, next_url):
    return render(
        request,
        "registration/otp_codes_secours.html",
        {"codes": codes, "suite": next_url},
    )


class LoginView(auth_views.LoginView):
    """Django's login view with the site's throttled form; a user who needs a second
    factor is not signed in by the password alone."""

    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if not factor.asks_second_factor(user):
            factor.forget(self.request)
            return super().form_valid(form)
        factor.start(self.request, user, self.get_redirect_url())
        if factor.confirmed_device(user) is None:
            return redirect("second_factor_activation")
        return redirect("second_factor")


@method_decorator([never_cache, sensitive_post_parameters("code")], name="dispatch")
class SecondFactorView(View):
    """The second step of a password login: a code."""

    template_name = "registration/otp_code.html"

    def dispatch(self, request, *args, **kwargs):
        had_pending = factor.had_pending(request)
        self.pending_user, self.state = factor.pending(request)
        if self.pending_user is None:
            return back_to_login(request, had_pending)
        if factor.confirmed_device(self.pending_user) is None:
            return redirect("second_factor_activation")
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        return self.render(self.form())

    def post(self, request):
        form = self.form(data=request.POST)
        if not form.is_valid():
            return self.render(form)
        factor.finish(request, self.pending_user, self.state, form.device)
        return HttpResponseRedirect(safe_next(request, self.state["next"]))

    def form(self, **kwargs):
        return factor.CodeForm(request=self.request, user=self.pending_user, **kwargs)

    def render(self, form):
        return render(self.request, self.template_name, {"form": form})


@method_decorator([never_cache, sensitive_post_parameters("code")], name="dispatch")
class ActivationView(View):
    """Setting up an authenticator: for a pending login without one, or for a signed-in
    user without one or who proved a current code (a new authenticator)."""

    template_name = "registration/otp_activation.html"

    def dispatch(self, request, *args, **kwargs):
        self.state = None
        if request.user.is_authenticated:
            self.subject = request.user
            if factor.confirmed_device(self.subject) and not factor.reset_allowed(request):
                return redirect("second_factor_account")
        else:
            had_pending = factor.had_pending(request)
            self.subject, self.state = factor.pending(request)
            if self.subject is None:
                return back_to_login(request, had_pending)
            if factor.confirmed_device(self.subject) is not None:
                return redirect("second_factor")
        self.device = factor.activation_device(request, self.subject)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        return self.render(factor.ActivationForm(device=self.device))

    def post(self, request):
        form = factor.ActivationForm(data=request.POST, device=self.device)
        if not form.is_valid():
            return self.render(form)
        self.device.refresh_from_db()
        codes = factor.new_recovery_codes(self.subject)
        request.session.pop(factor.RESET_KEY, None)
        if self.state is not None:
            factor.finish(request, self.subject, self.state, self.device)
            next_url = safe_next(request, self.state["next"])
        else:
            request.session.pop(factor.ACTIVATION_KEY, None)
            factor.otp_login(request, self.device)
            next_url = reverse("second_factor_account")
        return recovery_codes_page(request, codes, next_url)

    def render(self, form):
        return render(
            self.request,
            self.template_name,
            {
                "form": form,
                "qr_code": factor.qr_code_svg(self.device),
                "cle": factor.secret(self.device),
                "connexion_en_cours": self.state is not None,
                "nouvelle_application": factor.confirmed_device(self.subject) is not None,
            },
        )


@method_decorator([never_cache, sensitive_post_parameters("code")], name="dispatch")
class AccountView(LoginRequiredMixin, View):
    """A signed-in user's second factor."""

    template_name = "registration/otp_compte.html"
    actions = {"codes", "application"}

    def get(self, request):
        return self.render()

    def post(self, request):
        action = request.POST.get("action")
        device = factor.confirmed_device(request.user)
        if action not in self.actions or device is None:
            return redirect("second_factor_account")
        form = self.form(action, data=request.POST)
        if not form.is_valid():
            return self.render(**{f"form_{action}": form})
        if action == "codes":
            codes = factor.new_recovery_codes(request.user)
            return recovery_codes_page(request, codes, reverse("second_factor_account"))
        factor.allow_reset(request)
        return redirect("second_factor_activation")

    def form(self, action, **kwargs):
        """The form of one action; each has its own field ids on the page."""
        return factor.CodeForm(
            request=self.request, user=self.request.user, auto_id=f"id_{action}_%s", **kwargs
        )

    def render(self, **forms):
        user = self.request.user
        device = factor.confirmed_device(user)
        context = {
            "appareil": device,
            "requis": factor.required(user),
            "codes_restants": factor.recovery_codes_left(user),
            "form_codes": self.form("codes"),
            "form_application": self.form("application"),
            **forms,
        }
        return render(self.request, self.template_name, context)
