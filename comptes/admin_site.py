from django.contrib import admin

from comptes.roles import is_administrateur

from .forms import AdminLoginForm


class AdminSite(admin.AdminSite):
    """The admin site: only the Administrateur role (superusers hold it) may enter,
    whatever the account's is_staff flag says."""

    login_form = AdminLoginForm

    def has_permission(self, request):
        return request.user.is_active and is_administrateur(request.user)
