import logging

import pytest
from django.test import Client

from core.management.commands.demo import DemoContext
from grievance_social_protection import demo
from grievance_social_protection.apps import DEFAULT_CONFIG, TicketConfig, check_config
from grievance_social_protection.models import Comment, Ticket

pytestmark = pytest.mark.django_db


def test_config_defaults():
    for key in ("grievance_types", "grievance_flags", "grievance_channels", "resolution_times",
                "default_resolution", "default_attending_staff_role_ids", "grievance_anonymized_fields"):
        assert getattr(TicketConfig, key) == DEFAULT_CONFIG[key]
    assert TicketConfig.gql_mutation_create_comment_perms == ["127005"]
    assert TicketConfig.compute_due_date_from_resolution is False


def test_config_checks_warn_and_fill(caplog):
    caplog.set_level(logging.WARNING, logger="grievance_social_protection.apps")
    cfg = check_config({**DEFAULT_CONFIG, "default_resolution": {"Default": None, "Unknown": "5,0",
                                                                 "Category A": "99,2", "Category B": "7"}})
    assert cfg["default_resolution"]["Default"] == "5,0"  # filled from resolution_times
    text = caplog.text
    assert "Unknown" in text and "out of range" in text and "'7'" in text
    caplog.clear()
    check_config({**DEFAULT_CONFIG, "grievance_types": []})
    assert "grievance_types is empty" in caplog.text


def test_admin_pages(superuser, make_ticket, make_comment):
    ticket = make_ticket()
    make_comment(ticket)
    client = Client()
    client.force_login(superuser)
    for url in ("/api/admin/grievance_social_protection/ticket/",
                f"/api/admin/grievance_social_protection/ticket/{ticket.id}/change/",
                "/api/admin/grievance_social_protection/comment/",
                f"/api/admin/grievance_social_protection/ticket/{ticket.id}/history/"):
        response = client.get(url)
        assert response.status_code == 200, url
    assert ticket.code.encode() in client.get("/api/admin/grievance_social_protection/ticket/").content


def test_admin_cannot_add_tickets(superuser):
    """Tickets are written by their service only (issue 10 item 29: admin skipped its validation); this test
    used to pin the admin add with a generated code."""
    client = Client()
    client.force_login(superuser)
    response = client.post("/api/admin/grievance_social_protection/ticket/add/", {
        "title": "From admin", "category": "Default", "status": "RECEIVED", "date_valid_from_0": "2024-01-01",
        "date_valid_from_1": "00:00:00", "comments-TOTAL_FORMS": "0", "comments-INITIAL_FORMS": "0",
    })
    assert response.status_code == 403
    assert not Ticket.objects.exists()


def test_demo_is_idempotent(admin_user, capsys):
    import io

    from django.core.management.color import no_style

    ctx = DemoContext(admin_user, [], io.StringIO(), no_style())
    demo.contribute(ctx)
    demo.contribute(ctx)
    statuses = dict(Ticket.objects.filter(key__startswith="demo-grs-").values_list("key", "status"))
    assert statuses == {"demo-grs-1": "RECEIVED", "demo-grs-2": "OPEN", "demo-grs-3": "IN_PROGRESS",
                        "demo-grs-4": "CLOSED"}
    assert Comment.objects.filter(ticket__key="demo-grs-4", is_resolution=True).count() == 1
