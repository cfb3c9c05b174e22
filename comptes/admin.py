from django.contrib import admin, messages

from comptes.roles import is_administrateur

from .models import EchecConnexion
from .throttling import unlock


@admin.register(EchecConnexion)
class EchecConnexionAdmin(admin.ModelAdmin):
    """Failed sign-ins, read-only; "Débloquer" ends the lock of their accounts and addresses."""

    list_display = ["date", "identifiant", "adresse_ip"]
    list_filter = ["date"]
    search_fields = ["identifiant", "adresse_ip"]
    date_hierarchy = "date"
    actions = ["debloquer"]

    def has_view_permission(self, request, obj=None):
        return is_administrateur(request.user)

    def has_delete_permission(self, request, obj=None):
        return is_administrateur(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(
        description="Débloquer les comptes et adresses des tentatives sélectionnées",
        permissions=["delete"],
    )
    def debloquer(self, request, queryset):
        usernames = sorted(set(queryset.values_list("identifiant", flat=True)))
        addresses = sorted(
            set(queryset.exclude(adresse_ip=None).values_list("adresse_ip", flat=True))
        )
        unlock(usernames, addresses)
        self.message_user(
            request,
            "Accès débloqué pour : " + ", ".join([*usernames, *addresses]) + ".",
            messages.SUCCESS,
        )
