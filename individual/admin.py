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


@admin.register(Individual)
class IndividualAdmin(ServiceOnlyModelAdmin):
    list_display = ("last_name", "first_name", "dob", "location", "is_deleted", "date_created")
    search_fields = ("first_name", "last_name", "id")
    list_filter = ("is_deleted", "location__type")
    list_select_related = ("location",)
    autocomplete_fields = ()
    raw_id_fields = ("location",)
    date_hierarchy = "date_created"


@admin.register(Group)
class GroupAdmin(ServiceOnlyModelAdmin):
    list_display = ("code", "head", "location", "is_deleted", "date_created")
    search_fields = ("code", "id", "json_ext__head")
    list_select_related = ("location",)
    raw_id_fields = ("location",)
    inlines = (MembershipOfGroupInline,)

    @admin.display(description="head")
    def head(self, obj):
        return (obj.json_ext or {}).get("head")


@admin.register(GroupIndividual)
class GroupIndividualAdmin(ServiceOnlyModelAdmin):
    list_display = ("group", "individual", "role", "recipient_type", "is_deleted")
    search_fields = ("group__code", "individual__first_name", "individual__last_name")
    list_filter = ("is_deleted", "role", "recipient_type")
    list_select_related = ("group", "individual")
    raw_id_fields = ("group", "individual")


@admin.register(IndividualDataSourceUpload)
class IndividualDataSourceUploadAdmin(ServiceOnlyModelAdmin):
    list_display = ("source_name", "source_type", "status", "date_created")
    search_fields = ("source_name",)
    list_filter = ("status", "source_type")


@admin.register(IndividualDataSource)
class IndividualDataSourceAdmin(ServiceOnlyModelAdmin):
    list_display = ("id", "upload", "individual", "is_deleted")
    list_select_related = ("upload", "individual")
    raw_id_fields = ("upload", "individual")


@admin.register(IndividualDataUploadRecords)
class IndividualDataUploadRecordsAdmin(ServiceOnlyModelAdmin):
    list_display = ("workflow", "data_upload", "date_created")
    list_select_related = ("data_upload",)
    raw_id_fields = ("data_upload",)


@admin.register(GroupDataSource)
class GroupDataSourceAdmin(ServiceOnlyModelAdmin):
    list_display = ("id", "upload", "group", "is_deleted")
    list_select_related = ("upload", "group")
    raw_id_fields = ("upload", "group")
