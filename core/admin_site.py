"""The Django admin site of the assembly: an index grouped by programme area for the people who run a programme.

Each module's ModelAdmin says where its model belongs with ``admin_area = "<slug>"`` (one of ADMIN_AREAS, or a new
slug, shown under its own title) and may rename its index entry with ``admin_label``. The index shows the areas in
ADMIN_AREAS order; ``admin_area = SYSTEM`` keeps a module's technical table in the system part. A model of an
openIMIS module with no ``admin_area`` is shown under its module's name. Everything
else (users, roles and rights, locations, configuration, tokens, login attempts, the scheduler's tables, Django's
permission groups) is the system part: shown to superusers only, after the programme areas, and refused to anyone
else. There is no "View site" link: the API has no page to show at its root.

Installed through INSTALLED_APPS ("core.admin_site.OpenIMISAdminConfig" instead of "django.contrib.admin").
"""
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.text import capfirst

# programme areas in the order an officer meets them: (slug, title)
ADMIN_AREAS = (
    ("registry", "Registry"),
    ("enrolment", "Enrolment"),
    ("payments", "Payments"),
    ("grievances", "Grievances"),
    ("tasks", "Tasks"),
    ("notifications", "Notifications"),
    ("uploads", "Data uploads"),
    ("reports", "Reports"),
    ("activity", "Activity"),
)
SYSTEM = "system"  # the area of a system model (a ModelAdmin may also declare it)


def model_area(model, model_admin):
    """The programme area slug of a registered model, or SYSTEM."""
    area = getattr(model_admin, "admin_area", None)
    if area:
        return area  # a programme area, or SYSTEM
    app_config = model._meta.app_config
    if app_config.name != "core" and app_config.name in settings.OPENIMIS_MODULES:
        return app_config.label  # a module's model that declares no area: under its module's name
    return SYSTEM


def area_title(slug):
    titles = dict(ADMIN_AREAS)
    if slug in titles:
        return titles[slug]
    if apps.is_installed(slug) or slug in apps.app_configs:
        return apps.get_app_config(slug).verbose_name
    return capfirst(slug.replace("_", " "))


class OpenIMISAdminSite(admin.AdminSite):
    site_header = "openIMIS social protection administration"
    site_title = "openIMIS administration"
    index_title = "Programme records"
    site_url = None  # no "View site": the API has no page at its root

    def is_system_visible(self, request):
        return bool(request.user.is_active and request.user.is_superuser)

    def get_urls(self):
        return [
            path("area/<slug:area>/", self.admin_view(self.area_index), name="area"),
            *super().get_urls(),
        ]

    # -- what a user may reach ---------------------------------------------------------------------------------
    def allows(self, request, model):
        """False for a system model and a user who is not a superuser (the index hides it, its pages refuse)."""
        model_admin = self._registry.get(model)
        if model_admin is None:
            return False
        return model_area(model, model_admin) != SYSTEM or self.is_system_visible(request)

    def _build_app_dict(self, request, label=None):
        app_dict = super()._build_app_dict(request, label)
        for app in app_dict.values():
            app["models"] = [m for m in app["models"] if self.allows(request, m["model"])]
            for entry in app["models"]:
                label = getattr(self._registry[entry["model"]], "admin_label", None)
                if label:
                    entry["name"] = label
        return {key: app for key, app in app_dict.items() if app["models"]}

    def get_app_list(self, request, app_label=None):
        if app_label:  # one Django app's page (the breadcrumbs of its models link there)
            app_list = list(self._build_app_dict(request, app_label).values())
            for app in app_list:
                app["models"].sort(key=lambda m: m["name"].lower())
            return app_list
        return self.area_list(request)

    def area_list(self, request):
        """The index: programme areas first (ADMIN_AREAS order), then, for superusers, the system apps."""
        areas, system = {}, []
        for app in self._build_app_dict(request).values():
            for entry in app["models"]:
                model = entry["model"]
                slug = model_area(model, self._registry[model])
                if slug == SYSTEM:
                    continue
                area = areas.setdefault(slug, {
                    "name": area_title(slug), "app_label": slug, "has_module_perms": True, "models": [],
                    "app_url": self._area_url(slug),
                })
                area["models"].append(entry)
            system_models = [m for m in app["models"] if model_area(m["model"], self._registry[m["model"]]) == SYSTEM]
            if system_models:
                system.append({**app, "name": f"System: {app['name']}", "models": system_models})
        order = {slug: index for index, (slug, _title) in enumerate(ADMIN_AREAS)}
        area_list = sorted(areas.values(), key=lambda a: (order.get(a["app_label"], len(order)), a["name"].lower()))
        for area in area_list:
            area["models"].sort(key=lambda m: (getattr(self._registry[m["model"]], "admin_order", 100),
                                               m["name"].lower()))
        system.sort(key=lambda a: a["name"].lower())
        for app in system:
            app["models"].sort(key=lambda m: m["name"].lower())
        return area_list + system

    def _area_url(self, slug):
        try:
            return reverse("admin:area", kwargs={"area": slug}, current_app=self.name)
        except NoReverseMatch:
            return None

    def area_index(self, request, area, extra_context=None):
        app_list = [a for a in self.area_list(request) if a["app_label"] == area]
        if not app_list:
            raise Http404("No such programme area")
        request.current_app = self.name
        context = {
            **self.each_context(request),
            "title": app_list[0]["name"],
            "subtitle": None,
            "app_list": app_list,
            "app_label": area,
            **(extra_context or {}),
        }
        return TemplateResponse(request, self.app_index_template or "admin/app_index.html", context)


class SystemOnlyForSuperusers:
    """ModelAdmin mixin: the model's pages are open to superusers only (the index hides it from others too)."""

    def _superuser(self, request):
        return bool(request.user.is_active and request.user.is_superuser)

    def has_module_permission(self, request):
        return self._superuser(request)

    def has_view_permission(self, request, obj=None):
        return self._superuser(request)

    def has_add_permission(self, request, *args, **kwargs):
        return self._superuser(request) and super().has_add_permission(request, *args, **kwargs)

    def has_change_permission(self, request, obj=None):
        return self._superuser(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._superuser(request) and super().has_delete_permission(request, obj)


class OpenIMISAdminConfig(AdminConfig):
    default_site = "core.admin_site.OpenIMISAdminSite"
