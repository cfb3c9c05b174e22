from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse

from comptes.roles import is_national_admin

from .forms import AdminLoginForm


class AdminSite(admin.AdminSite):
    """The admin site: the platform's national administrator only (an active superuser),
    whatever the account's is_staff flag says. A contract's Administrateur works in the
    site (imports, publishing, editions, members), scoped to their contract."""

    login_form = AdminLoginForm
    site_header = "Administration nationale de contrat_ville"
    site_title = "Administration nationale"

    def has_permission(self, request):
        return is_national_admin(request.user)

    def login(self, request, extra_context=None):
        """The admin has no login form of its own: the site's login, with its second
        factor (comptes.second_factor_views), then back to the admin. A signed-in user
        who may not enter is refused here (the site's login would send them back)."""
        if request.user.is_authenticated:
            if self.has_permission(request):
                return redirect(reverse("admin:index", current_app=self.name))
            raise PermissionDenied
        next_url = request.GET.get(REDIRECT_FIELD_NAME) or reverse(
            "admin:index", current_app=self.name
        )
        return redirect_to_login(next_url, login_url=reverse("login"))
