"""Django admin for programme officers: the index grouped by programme area with readable labels and no system
models, the mutation log newest first with its operation, JSON as tables, pickers where a superuser edits
references, no "View site" link."""
import datetime
import re
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group as PermissionGroup
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.admin_site import ADMIN_AREAS, SYSTEM, model_area
from core.models import Location, ModuleConfiguration, MutationLog
from core.test_helpers import create_test_village
from individual.models import Individual

pytestmark = pytest.mark.django_db

BUSINESS_APPS = ("individual", "social_protection", "payment_cycle", "grievance_social_protection",
                 "tasks_management", "policy_notification")
TECHNICAL_PERMS = ("auth.view_group", "core.view_role", "core.view_user", "core.view_location",
                   "django_celery_beat.view_periodictask", "axes.view_accessattempt")


class _Index(HTMLParser):
    """The index page's programme areas: [(heading, [model labels])], in page order."""

    def __init__(self):
        super().__init__()
        self.areas, self._in_caption, self._in_row_th = [], False, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "caption":
            self._in_caption = True
        if tag == "th" and attrs.get("scope") == "row":
            self._in_row_th = True

    def handle_endtag(self, tag):
        if tag == "caption":
            self._in_caption = False
        if tag == "th":
            self._in_row_th = False

    def handle_data(self, data):
        text = data.strip()
        if not text:
            return
        if self._in_caption:
            self.areas.append((text, []))
        elif self._in_row_th and self.areas:
            self.areas[-1][1].append(text)


def _index(client):
    response = client.get("/api/admin/")
    assert response.status_code == 200
    parser = _Index()
    parser.feed(response.content.decode())
    return response, parser.areas


@pytest.fixture
def officer(make_user):
    """A programme officer: staff, not a superuser, in a Django permission group that may view every business
    model — and, to prove the index hides them anyway, a few system models too."""
    create_test_village("OF")
    user = make_user("officer", rights=[159001], districts=["OFD"])
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    group = PermissionGroup.objects.create(name="Programme officers")
    business = Permission.objects.filter(content_type__app_label__in=BUSINESS_APPS, codename__startswith="view_")
    technical = [Permission.objects.get(content_type__app_label=p.split(".")[0], codename=p.split(".")[1])
                 for p in TECHNICAL_PERMS]
    group.permissions.add(*business, *technical)
    user.groups.add(group)
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def officer_client(officer):
    client = Client()
    client.force_login(officer)
    return client


@pytest.fixture
def superuser_client(superuser):
    client = Client()
    client.force_login(superuser)
    return client


def test_officer_index_is_grouped_by_programme_area(officer_client):
    response, areas = _index(officer_client)
    headings = [heading for heading, _ in areas]
    titles = [title for _slug, title in ADMIN_AREAS]
    assert headings[:6] == ["Registry", "Enrolment", "Payments", "Grievances", "Tasks", "Notifications"]
    assert [h for h in headings if h in titles] == [t for t in titles if t in headings]  # in ADMIN_AREAS order
    assert not any(h.startswith("System") for h in headings)
    by_area = dict(areas)
    assert by_area["Registry"][:2] == ["Individuals", "Groups of individuals"]
    assert "Beneficiaries (individuals)" in by_area["Enrolment"]
    assert set(by_area["Payments"]) >= {"Payment cycles", "Payment plans", "Entitlements"}
    assert set(by_area["Grievances"]) >= {"Tickets", "Comments"}
    assert by_area["Tasks"][0] == "Tasks"
    html = response.content.decode()
    for technical in ("/api/admin/core/role/", "/api/admin/auth/group/", "/api/admin/core/user/",
                      "/api/admin/django_celery_beat/", "/api/admin/axes/", "/api/admin/core/location/",
                      "ticketmutation"):
        assert technical not in html, technical
    assert "View site" not in html  # no link to a page the API does not have


def test_officer_sees_readable_labels_only(officer_client):
    _response, areas = _index(officer_client)
    labels = [label for _heading, models in areas for label in models]
    assert labels and len(labels) == len(set(labels)), labels  # e.g. no two unrelated "Groups"
    for label in labels:
        assert not re.search(r"(ys|ss)$", label), label  # "Beneficiarys", "recordss"
        assert "_" not in label, label


def test_every_registered_model_has_a_readable_plural():
    for model, model_admin in admin.site._registry.items():
        plural = str(model._meta.verbose_name_plural)
        assert not re.search(r"([^aeiou]ys|recordss)$", plural), model._meta.label
    names = [str(getattr(a, "admin_label", None) or m._meta.verbose_name_plural).lower()
             for m, a in admin.site._registry.items()]
    assert names.count("groups") <= 1  # Django's permission groups are labelled as such


def test_superuser_index_has_programme_areas_then_system(superuser_client):
    _response, areas = _index(superuser_client)
    headings = [heading for heading, _ in areas]
    first_system = next(i for i, h in enumerate(headings) if h.startswith("System"))
    assert headings[0] == "Registry" and all(h.startswith("System") for h in headings[first_system:])
    labels = [label for _heading, models in areas for label in models]
    assert "Admin permission groups" in labels and "Groups of individuals" in labels
    assert labels.count("Groups") == 0


def test_officer_is_refused_system_pages_even_with_their_permissions(officer_client, officer):
    assert officer.has_perm("core.view_role") and officer.has_perm("auth.view_group")
    for url in ("/api/admin/core/role/", "/api/admin/auth/group/", "/api/admin/core/user/",
                "/api/admin/core/location/", "/api/admin/django_celery_beat/periodictask/"):
        assert officer_client.get(url).status_code == 403, url
    assert officer_client.get("/api/admin/individual/individual/").status_code == 200


def test_area_pages(officer_client):
    page = officer_client.get(reverse("admin:area", kwargs={"area": "registry"}))
    assert page.status_code == 200
    assert b"Individuals" in page.content and b"Groups of individuals" in page.content
    assert officer_client.get(reverse("admin:area", kwargs={"area": "nowhere"})).status_code == 404


def test_mutation_log_newest_first_with_operation(superuser_client, superuser):
    now = timezone.now()
    for minutes, field, label in ((30, "createIndividual", "old"), (10, "updateTicket", "newest"),
                                  (20, "createBenefitPlan", "middle")):
        log = MutationLog.objects.create(json_content="{}", user=superuser, client_mutation_label=label,
                                         json_ext={"mutation_field": field})
        MutationLog.objects.filter(pk=log.pk).update(request_date_time=now - datetime.timedelta(minutes=minutes))
    html = superuser_client.get("/api/admin/core/mutationlog/").content.decode()
    positions = [html.index(field) for field in ("updateTicket", "createBenefitPlan", "createIndividual")]
    assert positions == sorted(positions), "newest first"
    assert re.search(r'<th [^>]*class="[^"]*column-operation', html)  # the operation has its column
    filtered = superuser_client.get("/api/admin/core/mutationlog/?operation=updateTicket").content.decode()
    assert "updateTicket" in filtered and "createIndividual</td>" not in filtered


def test_officer_reads_the_log_of_own_requests(officer_client, officer, superuser):
    MutationLog.objects.create(json_content="{}", user=officer, json_ext={"mutation_field": "createTicket"})
    MutationLog.objects.create(json_content="{}", user=superuser, json_ext={"mutation_field": "deleteRole"})
    _response, areas = _index(officer_client)
    assert dict(areas)["Activity"] == ["Mutation log"]
    html = officer_client.get("/api/admin/core/mutationlog/").content.decode()
    assert "createTicket" in html and "deleteRole" not in html


def test_json_is_shown_as_a_table(officer_client, superuser):
    village = Location.objects.get(code="OFV")
    person = Individual(first_name="Asha", last_name="Tabular", dob=datetime.date(1990, 1, 1), location=village,
                        json_ext={"educated_level": "secondary", "household": {"size": 4, "<b>": "x"},
                                  "phones": ["+255700000001", "+255700000002"]})
    person.save(user=superuser)
    html = officer_client.get(f"/api/admin/individual/individual/{person.pk}/change/").content.decode()
    assert '<table class="json-table">' in html
    assert "<th>Educated level</th><td>secondary</td>" in html
    assert "<th>Size</th><td>4</td>" in html  # nested object: a nested table
    assert "<li>+255700000001</li>" in html
    assert "&lt;b&gt;" in html and "<th><b></th>" not in html  # escaped
    assert '{"educated_level"' not in html and "{&quot;educated_level&quot;" not in html  # no raw JSON
    assert 'name="json_ext"' not in html  # nothing to edit: individuals change through their services


def test_pickers_instead_of_id_boxes(superuser_client):
    add_role = superuser_client.get("/api/admin/core/userrole/add/").content.decode()
    assert re.search(r'<select[^>]*name="user"[^>]*admin-autocomplete|admin-autocomplete[^>]*name="user"', add_role)
    assert re.search(r'<select[^>]*name="role"[^>]*admin-autocomplete|admin-autocomplete[^>]*name="role"', add_role)
    location = superuser_client.get("/api/admin/core/location/add/").content.decode()
    assert re.search(r'admin-autocomplete[^>]*name="parent"|name="parent"[^>]*admin-autocomplete', location)
    editor = re.search(r'<textarea[^>]*name="json_ext"[^>]*>', location).group(0)
    assert "json-editor" in editor  # indented JSON editor, validated on save
    user_page = superuser_client.get("/api/admin/core/userdistrict/add/").content.decode()
    assert "admin-autocomplete" in user_page
    # the pickers answer a search
    found = superuser_client.get("/api/admin/autocomplete/", {"app_label": "core", "model_name": "userdistrict",
                                                               "field_name": "location", "term": "OF"})
    assert found.status_code == 200


def test_every_business_admin_has_an_area_and_search(officer_client):
    for model, model_admin in admin.site._registry.items():
        area = model_area(model, model_admin)
        if area == SYSTEM:
            continue
        if model._meta.app_label in BUSINESS_APPS:
            assert getattr(model_admin, "admin_area", None), model._meta.label
            assert model_admin.list_display != ("__str__",), model._meta.label


def test_location_json_editor_refuses_invalid_json(superuser_client):
    form = {"code": "JX1", "name": "Json town", "type": "R", "json_ext": "{broken",
            "validity_from_0": "2026-01-01", "validity_from_1": "00:00:00"}
    refused = superuser_client.post("/api/admin/core/location/add/", form)
    assert refused.status_code == 200 and "Enter a valid JSON" in refused.content.decode()
    assert not Location.objects.filter(code="JX1").exists()
    form["json_ext"] = '{"population": 1200}'
    assert superuser_client.post("/api/admin/core/location/add/", form).status_code == 302
    assert Location.objects.get(code="JX1").json_ext == {"population": 1200}


def test_module_configuration_editor_validates_json(superuser_client):
    url = "/api/admin/core/moduleconfiguration/add/"
    form = {"module": "individual", "layer": "be", "version": "1", "config": "{not json", "is_exposed": ""}
    refused = superuser_client.post(url, form)
    assert refused.status_code == 200 and "Not valid JSON" in refused.content.decode()
    assert not ModuleConfiguration.objects.filter(module="individual", config__contains="not json").exists()
    form["config"] = '["a list"]'
    assert "must be a JSON object" in superuser_client.post(url, form).content.decode()


def test_history_pages_stay_field_level(superuser_client, superuser):
    person = Individual(first_name="Omari", last_name="Versions", dob=datetime.date(1980, 5, 5),
                        json_ext={"educated_level": "primary"})
    person.save(user=superuser)
    person.json_ext = {"educated_level": "secondary"}
    person.save(user=superuser)
    history = superuser_client.get(f"/api/admin/individual/individual/{person.pk}/history/")
    assert history.status_code == 200
    first = person.history.order_by("history_date").first()
    version = superuser_client.get(
        f"/api/admin/individual/individual/{person.pk}/history/{first.history_id}/")
    assert version.status_code == 200
    html = version.content.decode()
    assert "<th>Educated level</th><td>primary</td>" in html  # the version's own JSON, as a table
    assert superuser_client.post(
        f"/api/admin/individual/individual/{person.pk}/history/{first.history_id}/", {}).status_code == 403


def test_references_are_named_within_the_viewers_row_security(officer_client, superuser_client, superuser):
    from tests.grievance_social_protection.factories import TicketFactory

    elsewhere = create_test_village("EL")
    person = Individual(first_name="Faraway", last_name="Reporter", dob=datetime.date(1970, 1, 1), location=elsewhere)
    person.save(user=superuser)
    ticket = TicketFactory(reporter=person, acting_user=superuser)
    url = f"/api/admin/grievance_social_protection/ticket/{ticket.pk}/change/"
    named = superuser_client.get(url).content.decode()
    assert f'/api/admin/individual/individual/{person.pk}/change/">Individual: Faraway Reporter</a>' in named
    page = officer_client.get(url)  # the officer's districts (OFD) do not hold the reporter
    assert page.status_code == 200
    html = page.content.decode()
    assert f"Individual: {person.pk}" in html and "Faraway" not in html
