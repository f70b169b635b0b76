from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from core.module_config import module_parts
from core.views import graphql_view, health

root = settings.SITE_ROOT
urlpatterns = [
    path(f"{root}/admin/", admin.site.urls),
    path("admin/", RedirectView.as_view(url=f"/{root}/admin/", permanent=False)),
    path(f"{root}/graphql", graphql_view, name="graphql"),
    path(f"{root}/graphql/", graphql_view),
    path("health", health),
    path(f"{root}/health", health),
]

for module, _urls in module_parts("urls"):
    urlpatterns.append(path(f"{root}/{module}/", include(f"{module}.urls")))
# the frontend downloads ticket attachments from /api/ticket/attach (a prefix outside the module's own)
if "grievance_social_protection" in settings.OPENIMIS_MODULES:
    urlpatterns.append(path(f"{root}/ticket/", include("grievance_social_protection.ticket_urls")))

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
