"""Ticket attachments (spec §12) as the frontend uses them: createTicketAttachment through the GraphQL endpoint,
the frontend's ``ticketAttachments`` query, the REST download, rights and the tickets' row security, every
refusal leaving neither a row nor a file, soft delete, and a list whose cost does not grow with the page."""
import base64
import hashlib
import json
import os

import pytest
from django.test import Client
from graphql_jwt.shortcuts import get_token

from core.location import is_unrestricted
from core.models import MutationLog
from core.test_helpers import assert_anonymous_refused, assert_log_error, assert_log_success, request_cost
from grievance_social_protection.apps import TicketConfig
from grievance_social_protection.models import Ticket, TicketAttachment, TicketMutation
from grievance_social_protection.services import TicketAttachmentService, attachment_storage
from tests.grievance_social_protection.factories import TicketFactory

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
TEXT = "Reçu du paiement manquant: 12 000 XOF\n".encode()
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 24

# openimis-fe-grievance_social_protection_js, actions.js fetchTicketAttachments (exact document)
FE_ATTACHMENTS = """
    {
      ticketAttachments(ticket_Uuid: "%s")
      {
        
    pageInfo { hasNextPage, hasPreviousPage, startCursor, endCursor}
    edges
    {
      node
      {
        id,uuid,date,filename,mimeType,ticket{id, uuid, ticketCode}
      }
    }
      }
    }"""
PAGED_ATTACHMENTS = ('{ ticketAttachments(ticket_Uuid: "%s", first: %d) { pageInfo { hasNextPage } '
                     'edges { node { id uuid date filename mimeType ticket { id uuid ticketCode } } } } }')
TICKETS_WITH_ATTACHMENTS = ('{ tickets(first: %d) { edges { node { code attachmentCount '
                            'attachments { uuid filename mimeType ticket { ticketCode } } } } } }')
DOWNLOAD_URL = "/api/ticket/attach"


def b64(content):
    return base64.b64encode(content).decode()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Each test stores its files in its own folder, so "no file left" is checked on an empty folder."""
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def stored_files():
    root = attachment_storage().location
    return sorted(os.path.relpath(os.path.join(folder, name), root)
                  for folder, _dirs, names in os.walk(root) for name in names)


def create(client, ticket, content, filename="receipt.png", mime_type="image/png", **extra):
    params = {"ticketUuid": str(ticket.id), "filename": filename, "mimeType": mime_type,
              "document": b64(content) if isinstance(content, bytes) else content, **extra}
    return client.mutate("createTicketAttachment", {"clientMutationLabel": f"Attach {filename}", **params})


def download(user, attachment_id):
    """The frontend's download link, with the user's JWT as the frontend sends it (anonymous: none)."""
    headers = {"HTTP_AUTHORIZATION": f"Bearer {get_token(user)}"} if user is not None else {}
    return Client().get(DOWNLOAD_URL, {"id": str(attachment_id)}, **headers)


def body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def attach(officer, ticket, content=PNG, filename="receipt.png", mime_type="image/png"):
    result = TicketAttachmentService(officer).create({"ticket_id": str(ticket.id), "filename": filename,
                                                      "mime_type": mime_type, "document": b64(content)})
    assert result["success"], result
    return TicketAttachment.objects.get(id=result["data"]["id"])


# --- create, list, download ---------------------------------------------------------------------------------
@pytest.mark.parametrize("content, filename, mime_type", [
    (PNG, "receipt.png", "image/png"),
    (PDF, "letter.pdf", "application/pdf"),
    (TEXT, "notes.txt", "text/plain"),
    (JPEG, "photo.jpg", "image/jpeg"),
    (WEBP, "photo.webp", "image/webp"),
])
def test_create_list_and_download(officer, gql, make_ticket, content, filename, mime_type):
    ticket = make_ticket()
    client = gql(officer)
    log = create(client, ticket, content, filename=filename, mime_type=mime_type, date="2024-11-20")
    assert_log_success(log)

    attachment = TicketAttachment.objects.get()
    assert (attachment.ticket_id, attachment.filename, attachment.mime_type) == (ticket.id, filename, mime_type)
    assert str(attachment.date) == "2024-11-20" and attachment.size == len(content)
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    assert stored_files() == [attachment.stored_name]  # a generated name, not the client's
    assert filename not in attachment.stored_name
    assert TicketMutation.objects.filter(ticket=ticket, mutation=log).exists()  # logged on its ticket
    # the log keeps a digest of the document, not a second copy of the file
    logged = json.loads(MutationLog.objects.get(id=log.id).json_content)
    assert logged["filename"] == filename
    assert logged["document"] == f"<{len(b64(content))} base64 characters, not kept in the log>"

    edges = client.data(FE_ATTACHMENTS % ticket.id)["ticketAttachments"]["edges"]
    assert [edge["node"]["uuid"] for edge in edges] == [str(attachment.id)]
    node = edges[0]["node"]
    assert (node["filename"], node["mimeType"], node["date"]) == (filename, mime_type, "2024-11-20")
    assert node["ticket"]["uuid"] == str(ticket.id) and node["ticket"]["ticketCode"] == ticket.code

    response = download(officer, attachment.id)
    assert response.status_code == 200
    assert body(response) == content
    assert response["Content-Type"].split(";")[0] == mime_type
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert response["X-Content-Type-Options"] == "nosniff"


def test_date_defaults_to_today_and_path_is_stripped(officer, gql, make_ticket):
    from django.utils import timezone

    ticket = make_ticket()
    assert_log_success(create(gql(officer), ticket, PDF, filename="C:\\scans\\..\\../etc/letter.pdf",
                              mime_type="Application/PDF"))
    attachment = TicketAttachment.objects.get()
    assert attachment.filename == "letter.pdf" and attachment.mime_type == "application/pdf"
    assert attachment.date == timezone.localdate()
    assert download(officer, attachment.id)["Content-Disposition"] == 'attachment; filename="letter.pdf"'


def test_list_shows_only_the_tickets_live_attachments(officer, gql, make_ticket):
    ticket, other = make_ticket(), make_ticket()
    kept = attach(officer, ticket, filename="kept.png")
    attach(officer, other, filename="other.png")
    gone = attach(officer, ticket, filename="gone.png")
    TicketAttachmentService(officer).delete({"id": str(gone.id)})
    edges = gql(officer).data(FE_ATTACHMENTS % ticket.id)["ticketAttachments"]["edges"]
    assert [edge["node"]["filename"] for edge in edges] == ["kept.png"]
    assert download(officer, gone.id).status_code == 404
    assert download(officer, kept.id).status_code == 200


def test_tickets_show_their_attachments(officer, gql, make_user, make_ticket, monkeypatch):
    ticket = make_ticket()
    first = attach(officer, ticket, filename="a.png")
    second = attach(officer, ticket, PDF, filename="b.pdf", mime_type="application/pdf")
    make_ticket()  # without attachments
    nodes = {n["node"]["code"]: n["node"] for n in gql(officer).data(TICKETS_WITH_ATTACHMENTS % 10)["tickets"]["edges"]}
    assert nodes[ticket.code]["attachmentCount"] == 2
    assert {a["uuid"] for a in nodes[ticket.code]["attachments"]} == {str(first.id), str(second.id)}
    assert all(a["ticket"]["ticketCode"] == ticket.code for a in nodes[ticket.code]["attachments"])
    assert [n for n in nodes.values() if n["code"] != ticket.code][0]["attachments"] == []
    # the ticket right alone does not show attachments (their right configured to another code)
    tickets_only = make_user("tickets-only", rights=[127000])
    monkeypatch.setattr(TicketConfig, "gql_query_ticket_attachments_perms", ["127009"])
    node = gql(tickets_only).data(TICKETS_WITH_ATTACHMENTS % 10)["tickets"]["edges"][0]["node"]
    assert node["attachments"] is None and node["attachmentCount"] is None


# --- rights and row security ---------------------------------------------------------------------------------
@pytest.fixture
def attending_only(monkeypatch):
    """Ticket row security installed for the test: a restricted (district) user sees only the tickets they
    attend. The module has no such rule of its own (tickets are readable with 127000): this proves the
    attachments follow whatever rule ``Ticket.get_queryset`` applies."""

    def rule(cls, queryset, user):
        queryset = queryset if queryset is not None else cls.objects.all()
        return queryset if is_unrestricted(user) else queryset.filter(attending_staff_id=user.id)

    monkeypatch.setattr(Ticket, "get_queryset", classmethod(rule))


def test_anonymous_is_refused(officer, gql, make_ticket):
    ticket = make_ticket()
    attachment = attach(officer, ticket)
    content = gql(None).query(FE_ATTACHMENTS % ticket.id)
    assert content["data"]["ticketAttachments"] is None and content["errors"][0]["message"] == "unauthorized"
    assert download(None, attachment.id).status_code in (401, 403)
    assert_anonymous_refused(gql(None), "createTicketAttachment", {
        "ticketUuid": str(ticket.id), "filename": "x.png", "mimeType": "image/png", "document": b64(PNG)})
    assert_anonymous_refused(gql(None), "deleteTicketAttachment", {"ids": [str(attachment.id)]})
    assert TicketAttachment.objects.filter(is_deleted=False).count() == 1 and len(stored_files()) == 1


def test_without_the_rights(officer, gql, make_user, make_ticket):
    ticket = make_ticket()
    attachment = attach(officer, ticket)
    # every grievance right but the attachment list (127000) and create/delete (127002) ones
    clerk = make_user("clerk", rights=[127001, 127003, 127004, 127005, 127006])
    client = gql(clerk)
    content = client.query(FE_ATTACHMENTS % ticket.id)
    assert content["data"]["ticketAttachments"] is None and content["errors"][0]["message"] == "unauthorized"
    response = download(clerk, attachment.id)
    assert response.status_code == 403 and body(response) != PNG
    assert_log_error(create(client, ticket, PNG), "unauthorized")
    assert_log_error(client.mutate("deleteTicketAttachment", {"ids": [str(attachment.id)]}), "unauthorized")
    # the reader (127000) lists and downloads, but neither creates nor deletes
    reader = make_user("reader", rights=[127000])
    assert len(gql(reader).data(FE_ATTACHMENTS % ticket.id)["ticketAttachments"]["edges"]) == 1
    assert body(download(reader, attachment.id)) == PNG
    assert_log_error(create(gql(reader), ticket, PNG), "unauthorized")
    assert_log_error(gql(reader).mutate("deleteTicketAttachment", {"ids": [str(attachment.id)]}), "unauthorized")
    assert TicketAttachment.objects.filter(is_deleted=False).count() == 1 and len(stored_files()) == 1


def test_district_user_who_cannot_see_the_ticket(admin_user, gql, make_user, make_ticket, attending_only):
    district_user = make_user("district-clerk", rights=[127000, 127002], districts=["AD"])
    hidden, own = make_ticket(), make_ticket(attending_staff_id=district_user.id)
    hidden_file, own_file = attach(admin_user, hidden), attach(admin_user, own, filename="own.png")
    client = gql(district_user)

    assert client.data(FE_ATTACHMENTS % hidden.id)["ticketAttachments"]["edges"] == []
    assert download(district_user, hidden_file.id).status_code == 404  # as an unknown id: no oracle
    assert_log_error(create(client, hidden, PNG), "Ticket not found")
    assert_log_error(client.mutate("deleteTicketAttachment", {"ids": [str(hidden_file.id)]}), "Attachment not found")
    nodes = {n["node"]["code"]: n["node"] for n in client.data(TICKETS_WITH_ATTACHMENTS % 10)["tickets"]["edges"]}
    assert list(nodes) == [own.code] and nodes[own.code]["attachmentCount"] == 1

    # control: the same user on the ticket they attend
    edges = client.data(FE_ATTACHMENTS % own.id)["ticketAttachments"]["edges"]
    assert [edge["node"]["uuid"] for edge in edges] == [str(own_file.id)]
    assert body(download(district_user, own_file.id)) == PNG
    assert_log_success(create(client, own, PDF, filename="more.pdf", mime_type="application/pdf"))
    assert TicketAttachment.objects.filter(ticket=hidden).count() == 1
    assert TicketAttachment.objects.get(id=hidden_file.id).is_deleted is False
    assert len(stored_files()) == 3


# --- refusals: a clear message, no row, no file -----------------------------------------------------------------
@pytest.mark.parametrize("change, message", [
    ({"ticketUuid": "6f1c0a5e-1b7e-4c8e-9a53-0d9a7f7a1111"}, "Ticket not found"),
    ({"document": "not base64 at all!"}, "not valid base64"),
    ({"document": "iVBORw0KGgo"}, "not valid base64"),  # missing padding
    ({"document": ""}, "The file is empty"),
    ({"document": "   "}, "The file is empty"),
    ({"document": b64(b"\x89PNG\r\n\x1a\n" + b"\x00" * 2048)}, "larger than the 1024 bytes allowed"),
    ({"mimeType": "application/x-msdownload"}, "File type application/x-msdownload is not allowed"),
    ({"mimeType": "image/gif"}, "is not allowed"),
    ({"mimeType": "application/pdf"}, "does not match its declared type application/pdf"),
    ({"mimeType": "image/jpeg"}, "does not match its declared type image/jpeg"),
    ({"mimeType": "text/plain"}, "does not match its declared type text/plain"),  # PNG bytes: NUL, not UTF-8
    ({"mimeType": "image/png", "document": b64(PDF)}, "does not match its declared type image/png"),
    ({"mimeType": "image/webp", "document": b64(b"RIFF\x24\x00\x00\x00WAVEfmt ")}, "does not match"),
    ({"mimeType": "text/plain", "document": b64(b"abc\x00def")}, "does not match its declared type text/plain"),
    ({"mimeType": "text/plain", "document": b64(b"caf\xe9")}, "does not match its declared type text/plain"),
    ({"filename": "../"}, "needs a file name"),
    ({"filename": "x" * 252 + ".png"}, "at most 255 characters"),
])
def test_refusals_store_nothing(officer, gql, make_ticket, monkeypatch, change, message):
    ticket = make_ticket()
    monkeypatch.setattr(TicketConfig, "ticket_attachment_max_bytes", 1024)
    params = {"ticketUuid": str(ticket.id), "filename": "receipt.png", "mimeType": "image/png",
              "document": b64(PNG), **change}
    log = gql(officer).mutate("createTicketAttachment", params)
    assert_log_error(log, message)
    assert "Traceback" not in log.error and "check logs" not in log.error
    assert not TicketAttachment.objects.exists() and not TicketAttachment.history.exists()
    assert stored_files() == []
    assert not TicketMutation.objects.filter(mutation=log).exists()


def test_a_file_beyond_the_request_body_cap_needs_the_setting_raised(officer, gql, make_ticket, settings):
    """900 KiB is within ``ticket_attachment_max_bytes`` but, in base64, beyond the default 1 MiB GraphQL body:
    refused with 413 before anything runs; accepted once ``GRAPHQL_MAX_BODY_SIZE`` is raised (README)."""
    ticket = make_ticket()
    content = b"%PDF-1.4\n" + b"0" * (900 * 1024)
    document = ("mutation { createTicketAttachment(input: { clientMutationId: \"big\", ticketUuid: \"%s\", "
                "filename: \"big.pdf\", mimeType: \"application/pdf\", document: \"%s\" }) { internalId } }"
                % (ticket.id, b64(content)))
    client = gql(officer)
    assert client.post(document).status_code == 413
    assert not MutationLog.objects.exists() and not TicketAttachment.objects.exists() and stored_files() == []

    settings.GRAPHQL_MAX_BODY_SIZE = 2 * 1024 * 1024
    response = client.post(document)
    assert response.status_code == 200, response.content[:300]
    assert_log_success(MutationLog.objects.get(id=response.json()["data"]["createTicketAttachment"]["internalId"]))
    assert TicketAttachment.objects.get().size == len(content) and len(stored_files()) == 1


@pytest.mark.parametrize("configured", ["relative", "absolute"])
def test_storage_folder_from_the_configuration(officer, make_ticket, media_root, tmp_path_factory, monkeypatch,
                                               configured):
    """``tickets_attachments_root_path``: a relative folder is taken under MEDIA_ROOT, an absolute one as it is."""
    folder = media_root / "evidence" if configured == "relative" else tmp_path_factory.mktemp("outside-media")
    monkeypatch.setattr(TicketConfig, "tickets_attachments_root_path",
                        "evidence" if configured == "relative" else str(folder))
    attachment = attach(officer, make_ticket())
    assert (folder / attachment.stored_name).read_bytes() == PNG
    assert body(download(officer, attachment.id)) == PNG


def test_a_data_url_is_read_as_its_base64(officer, gql, make_ticket):
    ticket = make_ticket()
    assert_log_success(create(gql(officer), ticket, "data:image/png;base64," + b64(PNG)))
    assert body(download(officer, TicketAttachment.objects.get().id)) == PNG


def test_deleted_ticket_takes_no_attachment(officer, gql, make_ticket):
    from grievance_social_protection.services import TicketService

    ticket = make_ticket()
    TicketService(officer).delete({"id": ticket.id})
    assert_log_error(create(gql(officer), ticket, PNG), "Ticket not found")
    assert stored_files() == [] and not TicketAttachment.objects.exists()


def test_a_failure_after_the_file_was_written_removes_it(officer, gql, make_ticket, monkeypatch):
    """The row cannot be saved (a database error injected): the boundary rolls it back and the file written just
    before goes too; the client reads the generic sentence, not the database's text."""
    ticket = make_ticket()

    def broken_save(self, *args, **kwargs):
        raise RuntimeError("disk I/O error near 'grievance_social_protection_ticketattachment'")

    monkeypatch.setattr(TicketAttachment, "save", broken_save)
    log = create(gql(officer), ticket, PNG)
    assert_log_error(log, "check logs for details")
    assert "disk I/O" not in log.error
    assert stored_files() == [] and not TicketAttachment.objects.exists()


def test_a_rollback_after_the_service_removes_the_file(officer, gql, make_ticket, monkeypatch):
    """The mutation's own transaction fails after the service succeeded (its link step raises): no row, no file."""
    from grievance_social_protection.gql_mutations import CreateTicketAttachmentMutation

    ticket = make_ticket()

    def broken_link(cls, user, data, obj_id):
        raise RuntimeError("link failed")

    monkeypatch.setattr(CreateTicketAttachmentMutation, "link", classmethod(broken_link))
    assert_log_error(create(gql(officer), ticket, PNG))
    assert stored_files() == [] and not TicketAttachment.objects.exists()


# --- soft delete ----------------------------------------------------------------------------------------------
def test_soft_delete_keeps_row_history_and_file(officer, gql, make_ticket):
    ticket = make_ticket()
    attachment = attach(officer, ticket)
    client = gql(officer)
    log = client.mutate("deleteTicketAttachment", {"ids": [str(attachment.id)]})
    assert_log_success(log)
    attachment.refresh_from_db()
    assert attachment.is_deleted and attachment.version == 2
    history = list(TicketAttachment.history.filter(id=attachment.id).order_by("history_date"))
    assert [(h.history_type, h.is_deleted) for h in history] == [("+", False), ("~", True)]
    assert history[-1].history_user_id == officer.id
    assert stored_files() == [attachment.stored_name]  # the evidence stays on disk
    assert TicketMutation.objects.filter(ticket=ticket, mutation=log).exists()
    assert client.data(FE_ATTACHMENTS % ticket.id)["ticketAttachments"]["edges"] == []
    assert download(officer, attachment.id).status_code == 404
    # a second delete is refused, naming the attachment
    assert_log_error(client.mutate("deleteTicketAttachment", {"ids": [str(attachment.id)]}),
                     f"{attachment.id}: Attachment not found")


def test_delete_is_all_or_nothing(officer, gql, make_ticket):
    ticket = make_ticket()
    kept = attach(officer, ticket)
    log = gql(officer).mutate("deleteTicketAttachment", {"ids": [str(kept.id), "6f1c0a5e-1b7e-4c8e-9a53-0d9a7f7a1111"]})
    assert_log_error(log, "Attachment not found")
    kept.refresh_from_db()
    assert kept.is_deleted is False


def test_download_errors(officer, make_ticket):
    attachment = attach(officer, make_ticket())
    response = download(officer, "nope")
    assert response.status_code == 400 and response.json()["error"] == "id must be an attachment uuid"
    assert download(officer, "6f1c0a5e-1b7e-4c8e-9a53-0d9a7f7a1111").status_code == 404
    attachment_storage().delete(attachment.stored_name)
    response = download(officer, attachment.id)
    assert response.status_code == 410 and response.json()["error"] == "The attachment's file is missing"


# --- cost ------------------------------------------------------------------------------------------------------
# 2 statements to authenticate, the page (first + 1 rows, tickets joined), nothing per row; the rights read twice
# from the cache, and the caller's allowed locations (an interactive user) when the registry is installed
AUTH_SQL, PAGE_SQL = 1, 1


def _cost(client, query):
    client.data(query)  # warm the process caches as a running server has them
    return request_cost(lambda: client.data(query))


def test_list_cost_is_the_same_for_10_and_100_attachments(officer, gql, make_ticket):
    ticket = make_ticket()
    client = gql(officer)
    for index in range(10):
        attach(officer, ticket, filename=f"f{index}.png")
    small = _cost(client, PAGED_ATTACHMENTS % (ticket.id, 10))
    assert small[0] == AUTH_SQL + PAGE_SQL
    for index in range(90):
        attach(officer, ticket, filename=f"g{index}.png")
    assert _cost(client, PAGED_ATTACHMENTS % (ticket.id, 100)) == small
    assert _cost(client, FE_ATTACHMENTS % ticket.id) == small  # the frontend's own document, no page size
    data = client.data(PAGED_ATTACHMENTS % (ticket.id, 100))["ticketAttachments"]
    assert len(data["edges"]) == 100 and data["pageInfo"]["hasNextPage"] is False


def test_tickets_with_attachments_cost_the_same_for_10_and_100_tickets(officer, gql):
    client = gql(officer)

    def tickets(count):
        for _ in range(count):
            ticket = TicketFactory(acting_user=officer)
            attach(officer, ticket)
            attach(officer, ticket, TEXT, filename="n.txt", mime_type="text/plain")

    tickets(10)
    small = _cost(client, TICKETS_WITH_ATTACHMENTS % 10)
    # the tickets' page, their attachments in one statement, the attachments' tickets in one more
    assert small[0] == AUTH_SQL + PAGE_SQL + 2
    tickets(90)
    assert _cost(client, TICKETS_WITH_ATTACHMENTS % 100) == small
    nodes = [edge["node"] for edge in client.data(TICKETS_WITH_ATTACHMENTS % 100)["tickets"]["edges"]]
    assert len(nodes) == 100 and all(node["attachmentCount"] == 2 for node in nodes)
