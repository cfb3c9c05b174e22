from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from simple_history.admin import SimpleHistoryAdmin

from comptes.roles import is_national_admin

from .models import EchecConnexion, Organisation, Profil
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
        return is_national_admin(request.user)

    def has_delete_permission(self, request, obj=None):
        return is_national_admin(request.user)

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


@admin.register(Organisation)
class OrganisationAdmin(SimpleHistoryAdmin):
    list_display = ["nom", "nature", "siret"]
    list_filter = ["nature"]
    search_fields = ["nom", "siret"]


class ProfilInline(admin.StackedInline):
    """Every account belongs to one organisation."""

    model = Profil
    can_delete = False
    min_num = 1
    max_num = 1
    autocomplete_fields = ["organisation"]
    readonly_fields = ["proconnect_sub"]


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class CompteAdmin(UserAdmin):
    inlines = [ProfilInline]
    list_display = ["username", "email", "first_name", "last_name", "organisation", "is_active"]
    list_select_related = ["profil__organisation"]
    search_fields = [*UserAdmin.search_fields, "profil__organisation__nom"]

    def save_formset(self, request, form, formset, change):
        """A new account got its profile when it was saved (`comptes.signals`): the
        inline's profile replaces it rather than adding a second one."""
        if formset.model is Profil:
            existing = Profil.objects.filter(compte=form.instance).first()
            for inline_form in formset.forms:
                if existing and inline_form.instance.pk is None:
                    inline_form.instance.pk = existing.pk
                    inline_form.instance._state.adding = False
        super().save_formset(request, form, formset, change)

    @admin.display(description="organisation", ordering="profil__organisation__nom")
    def organisation(self, user):
        profil = getattr(user, "profil", None)
        return profil.organisation if profil else "—"
