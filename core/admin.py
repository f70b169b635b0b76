from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from simple_history.admin import SimpleHistoryAdmin

from core.models import (
    ExportableQueryModel,
    InteractiveUser,
    Language,
    Location,
    ModuleConfiguration,
    MutationLog,
    RevokedToken,
    Role,
    RoleRight,
    User,
    UserDistrict,
    UserRole,
)


class HistoryModelAdmin(SimpleHistoryAdmin):
    """Base admin for HistoryModel entities: saves and deletes go through the acting user."""

    readonly_fields = ("id", "version", "date_created", "date_updated", "user_created", "user_updated")
    list_filter = ("is_deleted",)

    def save_model(self, request, obj, form, change):
        obj.save(user=request.user)

    def delete_model(self, request, obj):
        obj.delete(user=request.user)  # soft delete: the row stays, with its history

    def delete_queryset(self, request, queryset):
        from core.bulk import soft_delete_with_history

        soft_delete_with_history(queryset, user=request.user)  # one statement, history rows included

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        model = qs.model
        if hasattr(model, "get_queryset"):
            return model.get_queryset(qs, request.user)
        return qs


class ReadOnlyAdminMixin:
    """Admin (or inline) rows that are shown, never added, changed or deleted."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ServiceOnlyModelAdmin(ReadOnlyAdminMixin, HistoryModelAdmin):
    """Business records that only their services write (validation, maker-checker, service signals, row rules):
    admin lists them and shows each record and its history, and changes nothing. Add, change, delete, the
    delete action and simple-history's revert (a POST on a history version) are refused."""

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method not in ("GET", "HEAD"):
            raise PermissionDenied  # reverting to a version would save the record without its service
        return super().history_form_view(request, object_id, version_id, extra_context)

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    # no write path left, even one a subclass or a future Django version would open
    def save_model(self, request, obj, form, change):
        raise PermissionDenied

    def delete_model(self, request, obj):
        raise PermissionDenied

    def delete_queryset(self, request, queryset):
        raise PermissionDenied


class ServiceOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Inline rows of a ServiceOnlyModelAdmin: shown, never added, changed or deleted."""

    extra = 0
    can_delete = False
    show_change_link = True


class UserRoleInline(admin.TabularInline):
    model = UserRole
    extra = 0
    fields = ("role", "validity_from", "validity_to")


class UserDistrictInline(admin.TabularInline):
    model = UserDistrict
    extra = 0
    fields = ("location", "validity_from", "validity_to")


@admin.register(User)
class UserAdmin(DjangoUserAdmin, SimpleHistoryAdmin):
    list_display = ("username", "i_user", "is_active", "is_staff", "is_superuser", "last_login")
    search_fields = ("username", "i_user__last_name", "i_user__other_names")
    ordering = ("username",)
    fieldsets = (
        (None, {"fields": ("username", "password", "i_user")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("username", "password1", "password2")}),)
    list_select_related = ("i_user",)


@admin.register(InteractiveUser)
class InteractiveUserAdmin(SimpleHistoryAdmin):
    list_display = ("id", "last_name", "other_names", "email", "language", "validity_to")
    search_fields = ("last_name", "other_names", "email")
    inlines = (UserRoleInline, UserDistrictInline)


class RoleRightInline(admin.TabularInline):
    model = RoleRight
    extra = 0
    fields = ("right_id", "validity_from", "validity_to")


@admin.register(Role)
class RoleAdmin(SimpleHistoryAdmin):
    list_display = ("name", "is_system", "is_blocked", "validity_to")
    search_fields = ("name",)
    inlines = (RoleRightInline,)


@admin.register(RoleRight)
class RoleRightAdmin(SimpleHistoryAdmin):
    list_display = ("role", "right_id", "validity_to")
    list_filter = ("role",)
    list_select_related = ("role",)


@admin.register(UserRole)
class UserRoleAdmin(SimpleHistoryAdmin):
    list_display = ("user", "role", "validity_to")
    list_select_related = ("user", "role")


@admin.register(Location)
class LocationAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "type", "parent", "validity_to")
    list_filter = ("type",)
    search_fields = ("code", "name")
    list_select_related = ("parent",)


@admin.register(UserDistrict)
class UserDistrictAdmin(SimpleHistoryAdmin):
    list_display = ("user", "location", "validity_to")
    list_select_related = ("user", "location")


@admin.register(Language)
class LanguageAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "sort_order")


@admin.register(ModuleConfiguration)
class ModuleConfigurationAdmin(SimpleHistoryAdmin):
    list_display = ("module", "layer", "version", "is_exposed", "is_disabled_until")


@admin.register(MutationLog)
class MutationLogAdmin(admin.ModelAdmin):
    list_display = ("request_date_time", "client_mutation_label", "user", "status")
    list_filter = ("status",)
    search_fields = ("client_mutation_id", "client_mutation_label")
    readonly_fields = [f.name for f in MutationLog._meta.fields]
    list_select_related = ("user",)


@admin.register(ExportableQueryModel)
class ExportAdmin(admin.ModelAdmin):
    list_display = ("name", "model", "user", "create_date", "expire_date", "is_deleted")
    list_select_related = ("user",)


@admin.register(RevokedToken)
class RevokedTokenAdmin(admin.ModelAdmin):
    list_display = ("jti", "revoked_at", "expires_at")
