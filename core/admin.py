"""Core's Django admin: the base classes every module's admin.py builds on, and the system part of the admin (users,
roles and rights, locations, configuration, the mutation log's technical neighbours) that only superusers see.

- ``ServiceOnlyModelAdmin``: business records shown with their field-level history, never written here (their
  services write them). JSON values are shown as readable tables, references as links.
- ``PrettyJSONFormField``: where a superuser does edit JSON (locations, module configuration), an indented editor
  that refuses invalid JSON instead of a raw one-line text box.
- The index grouping by programme area and the superuser-only system part live in core/admin_site.py.
"""
import json

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group as PermissionGroup
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from simple_history.admin import SimpleHistoryAdmin

from core.admin_site import SYSTEM, SystemOnlyForSuperusers, model_area
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


# -- JSON shown to people -----------------------------------------------------------------------------------------
def json_html(value):
    """A JSON value as HTML an officer can read: objects as two-column tables, lists of objects as tables with one
    column per key, other lists as bullet lists, scalars as text (everything escaped)."""
    if isinstance(value, dict):
        if not value:
            return format_html('<span class="json-empty">{}</span>', "(empty)")
        rows = format_html_join("", "<tr><th>{}</th><td>{}</td></tr>",
                                ((capfirst(str(k).replace("_", " ")), json_html(v)) for k, v in value.items()))
        return format_html('<table class="json-table">{}</table>', rows)
    if isinstance(value, list):
        if not value:
            return format_html('<span class="json-empty">{}</span>', "(none)")
        if all(isinstance(item, dict) for item in value):
            columns = list(dict.fromkeys(key for item in value for key in item))
            head = format_html_join("", "<th>{}</th>", ((capfirst(str(c).replace("_", " ")),) for c in columns))
            body = format_html_join("", "<tr>{}</tr>", (
                (format_html_join("", "<td>{}</td>", ((json_html(item.get(c, "")),) for c in columns)),)
                for item in value))
            return format_html('<table class="json-table"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>',
                               head, body)
        return format_html('<ul class="json-list">{}</ul>',
                           format_html_join("", "<li>{}</li>", ((json_html(item),) for item in value)))
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


class JsonTable:
    """A read-only admin field that shows one JSON field of the record as a table (see json_html)."""

    def __init__(self, field):
        self.field_name = field.name
        self.__name__ = f"{field.name}_table"
        self.short_description = "Additional attributes" if field.name == "json_ext" else capfirst(field.verbose_name)

    def __call__(self, obj):
        value = getattr(obj, self.field_name, None)
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return value
        return format_html('<div class="json-readable">{}</div>', json_html(value))


def reference_link(record, content_type, object_id):
    """A generic reference (content type + id) of ``record`` as a link to the referenced record's admin page, named
    when the person viewing ``record`` may see the referenced row (its model's row security), else by its id."""
    if content_type is None or not object_id:
        return "—"
    model = content_type.model_class()
    viewer = getattr(record, "_admin_viewer", None)
    target = None
    if model is not None and viewer is not None:
        queryset = model._base_manager.filter(pk=object_id)
        if hasattr(model, "get_queryset"):
            queryset = model.get_queryset(queryset, viewer)  # row security, as the referenced model's admin list
        try:
            target = queryset.first()
        except (ValueError, TypeError, ValidationError):
            target = None  # not an id of that model
    label = f"{capfirst(model._meta.verbose_name if model else content_type.name)}: {target or object_id}"
    if target is not None and model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[target.pk])
        return format_html('<a href="{}">{}</a>', url, label)
    return label


class PrettyJSONFormField(forms.JSONField):
    """JSON edited as indented text; invalid JSON is refused with the form's error, never stored."""

    widget = forms.Textarea(attrs={"rows": 14, "cols": 90, "class": "vLargeTextField json-editor",
                                   "spellcheck": "false", "style": "font-family: monospace"})

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, cls=self.encoder)


class PrettyJSONAdminMixin:
    """Editable admins: JSON fields get the indented, validated editor."""

    formfield_overrides = {models.JSONField: {"form_class": PrettyJSONFormField}}


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
        """Every field, JSON ones as readable tables, then the subclass's own displays (``readonly_fields``)."""
        tables = self._json_tables()
        shown = [tables.get(field.name, field.name) for field in self.model._meta.fields]
        return shown + [name for name in self.readonly_fields if name not in shown]

    def get_fields(self, request, obj=None):
        if self.fields:
            return self.fields
        return self.get_readonly_fields(request, obj)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj._admin_viewer = request.user  # whose row security names the record's references (reference_link)
        return obj

    def _json_tables(self):
        tables = self.__dict__.get("_json_table_cache")
        if tables is None:
            tables = {f.name: JsonTable(f) for f in self.model._meta.fields if isinstance(f, models.JSONField)}
            self._json_table_cache = tables
        return tables

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
    autocomplete_fields = ("role",)


class UserDistrictInline(admin.TabularInline):
    model = UserDistrict
    extra = 0
    fields = ("location", "validity_from", "validity_to")
    autocomplete_fields = ("location",)


@admin.register(User)
class UserAdmin(SystemOnlyForSuperusers, DjangoUserAdmin, SimpleHistoryAdmin):
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
    autocomplete_fields = ("i_user",)


@admin.register(InteractiveUser)
class InteractiveUserAdmin(SystemOnlyForSuperusers, SimpleHistoryAdmin):
    list_display = ("last_name", "other_names", "email", "language", "validity_to")
    search_fields = ("last_name", "other_names", "email")
    list_filter = ("language",)
    ordering = ("last_name", "other_names")
    inlines = (UserRoleInline, UserDistrictInline)


class RoleRightInline(admin.TabularInline):
    model = RoleRight
    extra = 0
    fields = ("right_id", "validity_from", "validity_to")


@admin.register(Role)
class RoleAdmin(SystemOnlyForSuperusers, SimpleHistoryAdmin):
    list_display = ("name", "is_system", "is_blocked", "validity_to")
    search_fields = ("name",)
    ordering = ("name",)
    inlines = (RoleRightInline,)


@admin.register(RoleRight)
class RoleRightAdmin(SystemOnlyForSuperusers, SimpleHistoryAdmin):
    list_display = ("role", "right_id", "validity_to")
    list_filter = ("role",)
    search_fields = ("role__name", "right_id")
    list_select_related = ("role",)
    autocomplete_fields = ("role",)


@admin.register(UserRole)
class UserRoleAdmin(SystemOnlyForSuperusers, SimpleHistoryAdmin):
    list_display = ("user", "role", "validity_to")
    search_fields = ("user__last_name", "user__other_names", "role__name")
    list_select_related = ("user", "role")
    autocomplete_fields = ("user", "role")


@admin.register(Location)
class LocationAdmin(SystemOnlyForSuperusers, PrettyJSONAdminMixin, SimpleHistoryAdmin):
    list_display = ("code", "name", "type", "parent", "validity_to")
    list_filter = ("type",)
    search_fields = ("code", "name")
    list_select_related = ("parent",)
    autocomplete_fields = ("parent",)
    ordering = ("type", "code")


@admin.register(UserDistrict)
class UserDistrictAdmin(SystemOnlyForSuperusers, SimpleHistoryAdmin):
    list_display = ("user", "location", "validity_to")
    search_fields = ("user__last_name", "user__other_names", "location__code", "location__name")
    list_select_related = ("user", "location")
    autocomplete_fields = ("user", "location")


@admin.register(Language)
class LanguageAdmin(SystemOnlyForSuperusers, admin.ModelAdmin):
    list_display = ("code", "name", "sort_order")


class ModuleConfigurationForm(forms.ModelForm):
    """The configuration text is JSON: edited indented, refused when it does not parse to an object."""

    config = forms.CharField(widget=PrettyJSONFormField.widget, help_text="A JSON object of configuration keys.")

    class Meta:
        model = ModuleConfiguration
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        try:
            self.initial["config"] = json.dumps(json.loads(self.initial.get("config") or "{}"), indent=2,
                                                sort_keys=True, ensure_ascii=False)
        except ValueError:
            pass  # shown as stored, so the mistake can be corrected

    def clean_config(self):
        try:
            value = json.loads(self.cleaned_data["config"])
        except ValueError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}") from exc
        if not isinstance(value, dict):
            raise forms.ValidationError("The configuration must be a JSON object ({...}).")
        return json.dumps(value, ensure_ascii=False)


@admin.register(ModuleConfiguration)
class ModuleConfigurationAdmin(SystemOnlyForSuperusers, SimpleHistoryAdmin):
    form = ModuleConfigurationForm
    list_display = ("module", "layer", "version", "is_exposed", "is_disabled_until")
    list_filter = ("layer", "is_exposed")
    search_fields = ("module",)


class OperationFilter(admin.SimpleListFilter):
    title = "operation"
    parameter_name = "operation"

    def lookups(self, request, model_admin):
        names = (model_admin.get_queryset(request).exclude(json_ext__mutation_field=None)
                 .values_list("json_ext__mutation_field", flat=True).distinct())
        return [(name, name) for name in sorted(set(names)) if name]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(json_ext__mutation_field=self.value())
        return queryset


@admin.register(MutationLog)
class MutationLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What was asked and what became of it, newest first. Officers see the requests they sent; administrators
    all."""

    admin_area = "activity"
    admin_label = "Mutation log"
    list_display = ("request_date_time", "operation", "client_mutation_label", "client_mutation_id", "user",
                    "status")
    list_filter = ("status", OperationFilter)
    search_fields = ("client_mutation_id", "client_mutation_label")
    list_select_related = ("user",)
    ordering = ("-request_date_time",)
    date_hierarchy = "request_date_time"
    fields = ("request_date_time", "operation", "client_mutation_id", "client_mutation_label", "user", "status",
              "error_table", "input_table", "autogenerated_code")
    readonly_fields = fields

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser or getattr(request.user, "is_imis_admin", False):
            return qs
        return qs.filter(user=request.user)

    def has_view_permission(self, request, obj=None):
        if request.user.is_active and request.user.is_staff:
            return True  # anyone on the admin may read the log of their own requests
        return super().has_view_permission(request, obj)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    @admin.display(description="operation", ordering="json_ext__mutation_field")
    def operation(self, obj):
        return (obj.json_ext or {}).get("mutation_field") or "—"

    @admin.display(description="input")
    def input_table(self, obj):
        return JsonTable(MutationLog._meta.get_field("json_content"))(obj)

    @admin.display(description="error")
    def error_table(self, obj):
        return JsonTable(MutationLog._meta.get_field("error"))(obj) if obj.error else "—"


@admin.register(ExportableQueryModel)
class ExportAdmin(SystemOnlyForSuperusers, admin.ModelAdmin):
    list_display = ("name", "model", "user", "create_date", "expire_date", "is_deleted")
    list_select_related = ("user",)


@admin.register(RevokedToken)
class RevokedTokenAdmin(SystemOnlyForSuperusers, admin.ModelAdmin):
    list_display = ("jti", "revoked_at", "expires_at")


# -- the system part registered by Django and the libraries -------------------------------------------------------
class PermissionGroupAdmin(SystemOnlyForSuperusers, DjangoGroupAdmin):
    """Django's permission groups (admin access), not the registry's groups of individuals."""

    admin_label = "Admin permission groups"


if admin.site.is_registered(PermissionGroup):
    admin.site.unregister(PermissionGroup)
admin.site.register(PermissionGroup, PermissionGroupAdmin)


def _superusers_only_for_library_models():
    """The libraries' admins (login attempts, scheduler tables, …) registered before core: superusers only."""
    for model, model_admin in list(admin.site._registry.items()):
        if model._meta.app_config.name in settings.OPENIMIS_MODULES or isinstance(model_admin, SystemOnlyForSuperusers):
            continue
        if model_area(model, model_admin) == SYSTEM:
            admin.site.unregister(model)
            admin.site.register(model, type(type(model_admin).__name__, (SystemOnlyForSuperusers,
                                                                        type(model_admin)), {}))


_superusers_only_for_library_models()
