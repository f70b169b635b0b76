"""Registry records in Django admin: read-only with their history. Individuals, groups and memberships change only
through their services (validation, location rights, alignment rules, maker-checker tasks), uploads and data
sources only through the import workflows."""
from django.contrib import admin

from core.admin import ServiceOnlyInline, ServiceOnlyModelAdmin
from individual.models import Group, GroupDataSource, GroupIndividual, Individual, IndividualDataSource
from individual.models import IndividualDataSourceUpload, IndividualDataUploadRecords


class MembershipOfGroupInline(ServiceOnlyInline):
    model = GroupIndividual
    fk_name = "group"
    fields = ("individual", "role", "recipient_type", "is_deleted")
    readonly_fields = fields
    verbose_name, verbose_name_plural = "member", "members"


class GroupsOfIndividualInline(ServiceOnlyInline):
    model = GroupIndividual
    fk_name = "individual"
    fields = ("group", "role", "recipient_type", "is_deleted")
    readonly_fields = fields
    verbose_name, verbose_name_plural = "group membership", "group memberships"


@admin.register(Individual)
class IndividualAdmin(ServiceOnlyModelAdmin):
    admin_area, admin_order = "registry", 1
    list_display = ("last_name", "first_name", "dob", "location", "is_deleted", "date_created")
    search_fields = ("first_name", "last_name", "=id", "location__name", "location__code")
    list_filter = ("is_deleted", "location__type", "date_created")
    list_select_related = ("location",)
    raw_id_fields = ("location",)
    date_hierarchy = "date_created"
    inlines = (GroupsOfIndividualInline,)


@admin.register(Group)
class GroupAdmin(ServiceOnlyModelAdmin):
    admin_area, admin_order = "registry", 2
    admin_label = "Groups of individuals"
    list_display = ("code", "head", "location", "is_deleted", "date_created")
    search_fields = ("code", "=id", "json_ext__head")
    list_filter = ("is_deleted", "location__type", "date_created")
    list_select_related = ("location",)
    raw_id_fields = ("location",)
    inlines = (MembershipOfGroupInline,)

    @admin.display(description="head")
    def head(self, obj):
        return (obj.json_ext or {}).get("head")


@admin.register(GroupIndividual)
class GroupIndividualAdmin(ServiceOnlyModelAdmin):
    admin_area, admin_order = "registry", 3
    list_display = ("group", "individual", "role", "recipient_type", "is_deleted")
    search_fields = ("group__code", "individual__first_name", "individual__last_name")
    list_filter = ("is_deleted", "role", "recipient_type")
    list_select_related = ("group", "individual")
    raw_id_fields = ("group", "individual")


@admin.register(IndividualDataSourceUpload)
class IndividualDataSourceUploadAdmin(ServiceOnlyModelAdmin):
    admin_area, admin_order = "uploads", 1
    list_display = ("source_name", "source_type", "status", "date_created")
    search_fields = ("source_name",)
    list_filter = ("status", "source_type")


@admin.register(IndividualDataSource)
class IndividualDataSourceAdmin(ServiceOnlyModelAdmin):
    admin_area, admin_order = "uploads", 2
    list_display = ("id", "upload", "individual", "is_deleted")
    list_filter = ("is_deleted",)
    search_fields = ("=id", "upload__source_name", "individual__last_name")
    list_select_related = ("upload", "individual")
    raw_id_fields = ("upload", "individual")


@admin.register(IndividualDataUploadRecords)
class IndividualDataUploadRecordsAdmin(ServiceOnlyModelAdmin):
    admin_area, admin_order = "uploads", 4
    list_display = ("workflow", "data_upload", "date_created")
    list_filter = ("workflow",)
    list_select_related = ("data_upload",)
    raw_id_fields = ("data_upload",)


@admin.register(GroupDataSource)
class GroupDataSourceAdmin(ServiceOnlyModelAdmin):
    admin_area, admin_order = "uploads", 3
    list_display = ("id", "upload", "group", "is_deleted")
    list_filter = ("is_deleted",)
    search_fields = ("=id", "upload__source_name", "group__code")
    list_select_related = ("upload", "group")
    raw_id_fields = ("upload", "group")
