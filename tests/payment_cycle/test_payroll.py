"""Payroll out and back over HTTP (JWT): the payment list a provider receives (CSV/XLSX, formulas neutralised,
rights, row security, masking, constant queries) and the reconciliation file it sends back (every invalid row
reported with nothing changed, or every row applied set-based with history rows, in a constant number of SQL
statements)."""
import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from graphql_jwt.shortcuts import get_token
from openpyxl import Workbook, load_workbook

from core.masking import MASK_STRING
from core.test_helpers import create_test_village
from payment_cycle import payroll
from payment_cycle.models import Entitlement, EntitlementStatus, PaymentCycle
from tests.individual.factories import IndividualFactory
from tests.payment_cycle.factories import EntitlementFactory, PaymentCycleFactory, PaymentPlanFactory

LIST_URL = "/api/payment_cycle/payment_list/"
RECONCILE_URL = "/api/payment_cycle/reconcile/"
READ, UPDATE = 200001, 200003
ACTIVE = PaymentCycle.PaymentCycleStatus.ACTIVE
PAYABLE = EntitlementStatus.APPROVE_FOR_PAYMENT
HEADER = ["code", "benefit_plan_code", "payment_plan_code", "group_code", "first_name", "last_name", "national_id",
          "national_id_type", "phone", "amount", "currency", "date_due", "period_start", "period_end"]
PAID_ON = "2025-04-02"


# --- fixtures and helpers ------------------------------------------------------------------------------------
def http(user=None):
    client = Client()
    if user is not None:
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {get_token(user)}"
    return client


def download(user, **params):
    return http(user).get(LIST_URL, params)


def csv_rows(response):
    assert response.status_code == 200, response.content
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))


ANSWER_HEADER = ("code", "status", "paid_amount", "receipt", "date", "reason")


def upload(user, cycle, lines, header=ANSWER_HEADER, name="answer.csv"):
    body = io.StringIO()
    csv.writer(body).writerows([header, *lines])
    return post_file(user, cycle, SimpleUploadedFile(name, body.getvalue().encode(), content_type="text/csv"))


def post_file(user, cycle, file):
    return http(user).post(RECONCILE_URL, {"payment_cycle": str(cycle.id), "file": file})


def snapshot(cycle):
    """What reconciliation may change, for every entitlement of ``cycle``, and the history rows."""
    rows = Entitlement.objects.filter(payment_cycle=cycle).order_by("code").values_list(
        "code", "status", "paid_amount", "receipt", "date_paid", "failure_reason", "version")
    return list(rows), Entitlement.history.count()


@pytest.fixture
def villages(db):
    return create_test_village("A"), create_test_village("B")


@pytest.fixture
def payer(make_user, villages):
    return make_user("payer", rights=[READ, UPDATE], districts=["AD", "BD"])


@pytest.fixture
def district_a_payer(make_user, villages):
    return make_user("payer-a", rights=[READ, UPDATE], districts=["AD"])


@pytest.fixture
def cycle(db):
    return PaymentCycleFactory(code="2025-March", status=ACTIVE)


@pytest.fixture
def plan(db):
    return PaymentPlanFactory(code="PP-CASH")


def entitlement(cycle, plan, *, individual=None, status=PAYABLE, amount="1500.00", **kwargs):
    individual = individual or IndividualFactory()
    return EntitlementFactory(payment_cycle=cycle, payment_plan=plan, beneficiary__benefit_plan=plan.benefit_plan,
                              beneficiary__individual=individual, status=status, amount=Decimal(amount), **kwargs)


@pytest.fixture
def people(villages, cycle, plan):
    """Three payable entitlements (district A, district B, no location), one ACCEPTED, one of another cycle."""
    va, vb = villages
    ann = IndividualFactory(first_name="Ann", last_name="Alpha", location=va, json_ext={
        "national_id": "NID-1", "national_id_type": "national_card", "phone": "+263 77 1"})
    bob = IndividualFactory(first_name="=HYPERLINK(\"http://x\")", last_name="@Beta", location=vb,
                            json_ext={"national_id": "+1-2", "phone": "-5"})
    cid = IndividualFactory(first_name="Cid", last_name="None", json_ext={})
    other_cycle = PaymentCycleFactory(code="2025-April", status=ACTIVE, start_date=datetime.date(2025, 4, 1),
                                      end_date=datetime.date(2025, 4, 30))
    return {
        "ann": entitlement(cycle, plan, individual=ann, code="E-ANN", amount="1500.00"),
        "bob": entitlement(cycle, plan, individual=bob, code="E-BOB", amount="250.50"),
        "cid": entitlement(cycle, plan, individual=cid, code="E-CID", amount="99.99"),
        "accepted": entitlement(cycle, plan, code="E-ACC", status=EntitlementStatus.ACCEPTED),
        "elsewhere": entitlement(other_cycle, plan, code="E-APR"),
    }


# --- payroll out: the payment list -----------------------------------------------------------------------------
@pytest.mark.django_db
def test_csv_payment_list_lists_payable_entitlements_with_recipient_data(payer, cycle, plan, people):
    response = download(payer, payment_cycle=cycle.id)
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"] == 'attachment; filename="payment_list_2025-March.csv"'
    rows = csv_rows(response)
    assert rows[0] == HEADER
    assert [r[0] for r in rows[1:]] == ["E-ANN", "E-BOB", "E-CID"]  # neither ACCEPTED nor another cycle's
    ann = dict(zip(HEADER, rows[1]))
    assert ann == {"code": "E-ANN", "benefit_plan_code": plan.benefit_plan.code, "payment_plan_code": "PP-CASH",
                   "group_code": "", "first_name": "Ann", "last_name": "Alpha", "national_id": "NID-1",
                   "national_id_type": "national_card", "phone": "'+263 77 1", "amount": "1500.00",
                   "currency": "USD", "date_due": "2025-03-31", "period_start": "2025-03-01",
                   "period_end": "2025-03-31"}
    assert dict(zip(HEADER, rows[3]))["amount"] == "99.99"
    assert dict(zip(HEADER, rows[3]))["national_id"] == ""


@pytest.mark.django_db
def test_formulas_are_neutralised_in_csv_and_xlsx(payer, cycle, people):
    bob = dict(zip(HEADER, csv_rows(download(payer, payment_cycle=cycle.id))[2]))
    assert bob["first_name"] == "'=HYPERLINK(\"http://x\")"
    assert bob["last_name"] == "'@Beta"
    assert bob["national_id"] == "'+1-2" and bob["phone"] == "'-5"

    response = download(payer, payment_cycle=cycle.id, format="xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    cells = {c.column_letter: c for c in list(sheet.iter_rows(min_row=3, max_row=3))[0]}
    assert cells["E"].value == "'=HYPERLINK(\"http://x\")" and cells["E"].data_type == "s"
    assert cells["F"].value == "'@Beta"


@pytest.mark.django_db
def test_xlsx_payment_list_has_typed_amounts_and_dates(payer, cycle, people):
    response = download(payer, payment_cycle=cycle.id, format="xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert 'filename="payment_list_2025-March.xlsx"' in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER
    assert [r[0] for r in rows[1:]] == ["E-ANN", "E-BOB", "E-CID"]
    bob = dict(zip(HEADER, rows[2]))
    assert Decimal(str(bob["amount"])) == Decimal("250.50")
    assert bob["date_due"] == datetime.datetime(2025, 3, 31)
    assert sheet.cell(row=3, column=HEADER.index("amount") + 1).number_format == "0.00"


@pytest.mark.django_db
def test_xlsx_drops_control_characters_a_spreadsheet_cannot_hold(payer, cycle, plan):
    entitlement(cycle, plan, individual=IndividualFactory(first_name="Zo\x01e", last_name="Vert\x1bical"), code="E-Z")
    response = download(payer, payment_cycle=cycle.id, format="xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert list(sheet.iter_rows(min_row=2, values_only=True))[0][4:6] == ("Zoe", "Vertical")


@pytest.mark.django_db
def test_payment_plan_and_status_parameters(payer, cycle, plan, people):
    other_plan = PaymentPlanFactory(code="PP-OTHER")
    entitlement(cycle, other_plan, code="E-OTH")
    assert [r[0] for r in csv_rows(download(payer, payment_cycle=cycle.id))[1:]] == ["E-ANN", "E-BOB", "E-CID",
                                                                                   "E-OTH"]
    by_plan = download(payer, payment_cycle=cycle.id, payment_plan=other_plan.id)
    assert 'filename="payment_list_2025-March_PP-OTHER.csv"' in by_plan["Content-Disposition"]
    assert [r[0] for r in csv_rows(by_plan)[1:]] == ["E-OTH"]
    accepted = csv_rows(download(payer, payment_cycle=cycle.id, status="accepted"))
    assert [r[0] for r in accepted[1:]] == ["E-ACC"]
    both = csv_rows(download(payer, payment_cycle=cycle.id, payment_plan=plan.id,
                             status="ACCEPTED,APPROVE_FOR_PAYMENT"))
    assert [r[0] for r in both[1:]] == ["E-ACC", "E-ANN", "E-BOB", "E-CID"]


@pytest.mark.django_db
@pytest.mark.parametrize("params, code, error", [
    ({}, 400, "payment_cycle not provided"),
    ({"payment_cycle": "nope"}, 400, "payment_cycle is not a UUID"),
    ({"payment_cycle": "00000000-0000-0000-0000-000000000000"}, 404, "Payment cycle not found"),
    ({"payment_plan": "00000000-0000-0000-0000-000000000000"}, 404, "Payment plan not found"),
    ({"format": "pdf"}, 400, "Unsupported format: pdf (use csv or xlsx)"),
    ({"status": "PAID,SOON"}, 400, "Unknown entitlement status: SOON"),
])
def test_payment_list_refusals(payer, cycle, people, params, code, error):
    params = {"payment_cycle": str(cycle.id), **params} if "payment_cycle" not in params and params else params
    response = download(payer, **params)
    assert response.status_code == code, response.content
    assert response.json() == {"success": False, "error": error}


@pytest.mark.django_db
def test_payment_list_rights(make_user, cycle, people):
    assert download(None, payment_cycle=cycle.id).status_code in (401, 403)
    for rights in ([], [UPDATE], [READ + 1]):
        response = download(make_user(f"no-read-{len(rights)}", rights=rights), payment_cycle=cycle.id)
        assert response.status_code == 403
        assert response.json() == {"success": False, "error": "Unauthorized"}


@pytest.mark.django_db
def test_district_user_only_gets_the_rows_of_individuals_they_may_see(district_a_payer, make_user, cycle, people):
    rows = csv_rows(download(district_a_payer, payment_cycle=cycle.id))
    assert [r[0] for r in rows[1:]] == ["E-ANN", "E-CID"]  # district B's Bob is not theirs; Cid has no location
    district_b = make_user("payer-b", rights=[READ], districts=["BD"])
    sheet = load_workbook(io.BytesIO(b"".join(download(district_b, payment_cycle=cycle.id,
                                                        format="xlsx").streaming_content))).active
    assert [r[0] for r in sheet.iter_rows(min_row=2, values_only=True)] == ["E-BOB", "E-CID"]


@pytest.mark.django_db
def test_masked_registry_attributes_stay_masked(monkeypatch, make_user, cycle, people):
    from individual.apps import IndividualConfig

    monkeypatch.setattr(IndividualConfig, "individual_mask_fields", ["json_ext.national_id", "json_ext.phone"])
    masked_user = make_user("masked", rights=[READ], districts=["AD"])
    masked = dict(zip(HEADER, csv_rows(download(masked_user, payment_cycle=cycle.id))[1]))
    assert (masked["national_id"], masked["phone"], masked["national_id_type"]) == (MASK_STRING, MASK_STRING,
                                                                                    "national_card")
    clear = dict(zip(HEADER, csv_rows(download(make_user("clear", rights=[READ, 900101], districts=["AD"]),
                                               payment_cycle=cycle.id))[1]))
    assert (clear["national_id"], clear["phone"]) == ("NID-1", "'+263 77 1")


def _download_queries(user, cycle, file_format):
    client = http(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST_URL, {"payment_cycle": cycle.id, "format": file_format})
        body = b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(queries), body


@pytest.mark.django_db
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_payment_list_queries_do_not_grow_with_rows(district_a_payer, cycle, plan, villages, file_format):
    for i in range(3):
        entitlement(cycle, plan, individual=IndividualFactory(location=villages[0]), code=f"S{i:03}")
    _download_queries(district_a_payer, cycle, file_format)  # the first request fills the rights/location caches
    few, _ = _download_queries(district_a_payer, cycle, file_format)
    for i in range(3, 40):
        entitlement(cycle, plan, individual=IndividualFactory(location=villages[0]), code=f"S{i:03}")
    many, body = _download_queries(district_a_payer, cycle, file_format)
    assert many == few <= 4  # the token and its user, the cycle, the rows (one statement, joins)
    if file_format == "csv":
        assert body.decode().count("\n") == 41


# --- payroll back: reconciliation ------------------------------------------------------------------------------
@pytest.mark.django_db
def test_reconciliation_marks_paid_and_records_failures_with_history(payer, cycle, people):
    before = Entitlement.history.count()
    response = upload(payer, cycle, [
        ("E-ANN", "paid", "1500", "RCPT-1", PAID_ON, ""),
        ("E-BOB", "Failed", "", "", "", "wallet closed"),
        ("E-CID", "PAID", "99.99", "", PAID_ON, ""),
    ])
    assert response.status_code == 200, response.content
    assert response.json() == {"success": True, "data": {"paid": 2, "failed": 1}}

    ann, bob, cid = (Entitlement.objects.get(pk=people[k].pk) for k in ("ann", "bob", "cid"))
    assert (ann.status, ann.paid_amount, ann.receipt, ann.date_paid, ann.failure_reason) == (
        EntitlementStatus.PAID, Decimal("1500.00"), "RCPT-1", datetime.date(2025, 4, 2), None)
    assert (cid.status, cid.paid_amount, cid.receipt) == (EntitlementStatus.PAID, Decimal("99.99"), None)
    assert (bob.status, bob.failure_reason, bob.paid_amount) == (PAYABLE, "wallet closed", None)
    assert ann.version == people["ann"].version + 1 and ann.user_updated_id == payer.pk

    history = Entitlement.history.filter(history_type="~").order_by("code")
    assert Entitlement.history.count() == before + 3
    assert [(h.code, h.status, h.history_user_id) for h in history] == [
        ("E-ANN", "PAID", payer.pk), ("E-BOB", PAYABLE, payer.pk), ("E-CID", "PAID", payer.pk)]
    assert history.get(code="E-BOB").failure_reason == "wallet closed"
    assert Entitlement.objects.get(pk=people["accepted"].pk).status == EntitlementStatus.ACCEPTED


@pytest.mark.django_db
def test_a_failed_entitlement_can_be_paid_later_and_its_failure_is_cleared(payer, cycle, people):
    assert upload(payer, cycle, [("E-ANN", "FAILED", "0", "", "", "")]).status_code == 200
    assert Entitlement.objects.get(pk=people["ann"].pk).failure_reason == payroll.DEFAULT_FAILURE_REASON
    assert upload(payer, cycle, [("E-ANN", "PAID", "1500.00", "R2", PAID_ON, "")]).status_code == 200
    ann = Entitlement.objects.get(pk=people["ann"].pk)
    assert (ann.status, ann.failure_reason, ann.receipt) == (EntitlementStatus.PAID, None, "R2")


@pytest.mark.django_db
def test_xlsx_reconciliation_file_with_extra_columns(payer, cycle, people):
    """The provider may send the payment list back with its answer added: unknown columns are ignored."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Code", "first_name", "Status", "Paid_Amount", "Receipt", "Date"])
    sheet.append(["E-ANN", "Ann", "PAID", Decimal("1500.00"), "X-9", datetime.date(2025, 4, 2)])
    sheet.append(["E-BOB", "Bob", "PAID", 250.5, 12345, datetime.date(2025, 4, 3)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = post_file(payer, cycle, SimpleUploadedFile("answer.xlsx", buffer.getvalue()))
    assert response.status_code == 200, response.content
    assert response.json()["data"] == {"paid": 2, "failed": 0}
    bob = Entitlement.objects.get(pk=people["bob"].pk)
    assert (bob.status, bob.paid_amount, bob.receipt, bob.date_paid) == (
        EntitlementStatus.PAID, Decimal("250.50"), "12345", datetime.date(2025, 4, 3))


@pytest.mark.django_db
def test_every_invalid_row_is_reported_and_nothing_changes(payer, cycle, plan, people):
    entitlement(cycle, plan, code="E-PAID", status=EntitlementStatus.PAID, paid_amount=Decimal("1500"))
    entitlement(cycle, plan, code="E-REJ", status=EntitlementStatus.REJECTED)
    entitlement(cycle, plan, code="E-OK1")
    entitlement(cycle, plan, code="E-OK2")
    entitlement(cycle, plan, code="E-OK3")
    before = snapshot(cycle)
    from django.utils import timezone

    later = (timezone.localdate() + datetime.timedelta(days=2)).isoformat()  # tomorrow is tolerated (time zones)
    response = upload(payer, cycle, [
        ("E-ANN", "PAID", "1500.00", "R", PAID_ON, ""),        # 2 valid
        ("E-NOPE", "PAID", "1", "", PAID_ON, ""),              # 3 unknown code
        ("E-APR", "PAID", "1500", "", PAID_ON, ""),            # 4 another cycle's
        ("E-BOB", "PAID", "250.00", "", PAID_ON, ""),          # 5 amount differs
        ("E-PAID", "PAID", "1500", "", PAID_ON, ""),           # 6 already paid
        ("E-ACC", "FAILED", "", "", "", "x"),                  # 7 not payable
        ("E-CID", "PAID", "99.99", "", "31/03/2025", ""),      # 8 bad date
        ("E-OK1", "PAID", "12,5", "", PAID_ON, ""),            # 9 bad amount
        ("E-ANN", "PAID", "1500", "", PAID_ON, ""),            # 10 duplicate of row 2
        ("E-OK2", "MAYBE", "", "", "", ""),                    # 11 unknown status
        ("E-REJ", "FAILED", "", "", "", ""),                   # 12 not payable (REJECTED)
        ("E-OK3", "PAID", "", "", "", ""),                     # 13 PAID needs an amount and a date
        ("", "PAID", "1", "", later, ""),                   # 14 no code, date in the future
        ("E-OK3", "PAID", "-1", "", PAID_ON, "=cmd()"),        # 15 duplicate, negative, formula
    ])
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["success"] is False and body["error"] == "13 invalid rows: nothing was changed"
    reasons = {row["row"]: (row["code"], row["reason"]) for row in body["invalid_rows"]}
    assert reasons == {
        3: ("E-NOPE", "code: unknown entitlement code"),
        4: ("E-APR", "code: an entitlement of another payment cycle (2025-April)"),
        5: ("E-BOB", "paid_amount: 250.00 differs from the entitlement amount 250.50"),
        6: ("E-PAID", "already paid"),
        7: ("E-ACC", "not payable (status ACCEPTED)"),
        8: ("E-CID", "date: '31/03/2025' is not a date in the format YYYY-MM-DD"),
        9: ("E-OK1", "paid_amount: '12,5' is not a number (use digits and a '.' decimal point)"),
        10: ("E-ANN", "code: duplicate of row 2"),
        11: ("E-OK2", "status: unknown status 'MAYBE' (use PAID or FAILED)"),
        12: ("E-REJ", "not payable (status REJECTED)"),
        13: ("E-OK3", "paid_amount: required for a PAID row; date: required for a PAID row"),
        14: ("", f"code: required; date: {later} is in the future"),
        15: ("E-OK3", "reason: looks like a spreadsheet formula (starts with '='); code: duplicate of row 13; "
                      "paid_amount: must not be negative"),
    }
    assert snapshot(cycle) == before


@pytest.mark.django_db
def test_file_level_problems_are_refused(payer, cycle, people):
    before = snapshot(cycle)
    response = upload(payer, cycle, [("E-ANN", "1500")], header=("code", "paid_amount"))
    assert response.status_code == 400
    assert response.json() == {"success": False, "error": "Required column 'status' is missing.",
                               "problems": ["Required column 'status' is missing."]}
    empty = post_file(payer, cycle, SimpleUploadedFile("answer.csv", b"", content_type="text/csv"))
    assert empty.status_code == 400 and empty.json()["error"] == "Import file is empty"
    missing = http(payer).post(RECONCILE_URL, {"payment_cycle": str(cycle.id)})
    assert missing.json() == {"success": False, "error": "File not provided"}
    assert snapshot(cycle) == before


@pytest.mark.django_db
def test_too_many_rows_for_the_configured_limit(payer, cycle, people, monkeypatch):
    from payment_cycle.apps import PaymentCycleConfig

    monkeypatch.setattr(PaymentCycleConfig, "reconciliation_max_rows", 2)
    before = snapshot(cycle)
    response = upload(payer, cycle, [("E-ANN", "FAILED", "", "", "", "")] * 3)
    assert response.status_code == 400
    assert response.json()["error"] == "The file has more than 2 data rows, the limit."
    assert snapshot(cycle) == before


@pytest.mark.django_db
@pytest.mark.parametrize("status", [PaymentCycle.PaymentCycleStatus.PENDING, PaymentCycle.PaymentCycleStatus.SUSPENDED])
def test_only_an_active_cycle_is_reconciled(payer, cycle, people, status):
    PaymentCycle.objects.filter(pk=cycle.pk).update(status=status)
    before = snapshot(cycle)
    response = upload(payer, cycle, [("E-ANN", "PAID", "1500", "", PAID_ON, "")])
    assert response.status_code == 400
    assert response.json() == {"success": False, "error": f"Payment cycle 2025-March is {status}: only an ACTIVE "
                                                          "cycle can be reconciled"}
    assert snapshot(cycle) == before


@pytest.mark.django_db
def test_reconciliation_rights_and_row_security(make_user, district_a_payer, cycle, people):
    before = snapshot(cycle)
    line = [("E-BOB", "PAID", "250.50", "", PAID_ON, "")]
    assert upload(None, cycle, line).status_code in (401, 403)
    for rights in ([], [READ]):
        response = upload(make_user(f"reader-{len(rights)}", rights=rights), cycle, line)
        assert response.status_code == 403 and response.json()["error"] == "Unauthorized"
    # Bob lives in district B: for a district A user his entitlement does not exist
    response = upload(district_a_payer, cycle, line)
    assert response.status_code == 400
    assert response.json()["invalid_rows"] == [{"row": 2, "code": "E-BOB", "reason": "code: unknown entitlement code"}]
    assert snapshot(cycle) == before
    ok = upload(district_a_payer, cycle, [("E-ANN", "PAID", "1500.00", "", PAID_ON, "")])
    assert ok.json() == {"success": True, "data": {"paid": 1, "failed": 0}}


@pytest.mark.django_db
def test_unknown_or_missing_cycle(payer, cycle, people):
    response = http(payer).post(RECONCILE_URL, {"payment_cycle": "00000000-0000-0000-0000-000000000000",
                                                "file": SimpleUploadedFile("a.csv", b"code,status\nE-ANN,PAID\n")})
    assert response.status_code == 404 and response.json()["error"] == "Payment cycle not found"
    response = http(payer).post(RECONCILE_URL, {"file": SimpleUploadedFile("a.csv", b"code,status\nE-ANN,PAID\n")})
    assert response.status_code == 400 and response.json()["error"] == "payment_cycle not provided"


def _reconcile_statements(user, cycle, lines):
    body = io.StringIO()
    csv.writer(body).writerows([ANSWER_HEADER, *lines])
    client, file = http(user), SimpleUploadedFile("answer.csv", body.getvalue().encode(), content_type="text/csv")
    with CaptureQueriesContext(connection) as queries:
        response = client.post(RECONCILE_URL, {"payment_cycle": str(cycle.id), "file": file})
    assert response.status_code == 200, response.content
    return len(queries)


@pytest.mark.django_db
@pytest.mark.parametrize("lookup_by_code_max", [payroll.LOOKUP_BY_CODE_MAX, 1])
def test_reconciliation_statements_do_not_grow_with_rows(monkeypatch, district_a_payer, cycle, plan, villages,
                                                         lookup_by_code_max):
    """Both ways to find the file's entitlements (by code, or one pass over the cycle's) are one statement."""
    monkeypatch.setattr(payroll, "LOOKUP_BY_CODE_MAX", lookup_by_code_max)
    codes = [entitlement(cycle, plan, individual=IndividualFactory(location=villages[0]), code=f"R{i:03}").code
             for i in range(60)]

    def lines(chosen):
        return [(code, "PAID" if i % 3 else "FAILED", "1500.00", f"T{i}", PAID_ON, "no wallet")
                for i, code in enumerate(chosen)]

    _reconcile_statements(district_a_payer, cycle, lines(codes[:1]))  # the rights/location caches filled
    few = _reconcile_statements(district_a_payer, cycle, lines(codes[1:4]))
    many = _reconcile_statements(district_a_payer, cycle, lines(codes[4:60]))
    # token and user 2, the cycle 2 (checked, then locked), the look-up 1, two update_rows of 3 (SQLite:
    # UPDATE, ids, history) or 3 (PostgreSQL: temp table, COPY, UPDATE with history), savepoints 6
    assert many == few <= 17
    assert Entitlement.objects.filter(payment_cycle=cycle, status=EntitlementStatus.PAID).count() == 39
    assert Entitlement.history.filter(history_type="~").count() == 60


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_reconciliations_of_one_cycle_pay_once(make_user, villages):
    """The cycle row is locked while a file is checked and applied: the same answer sent four times at once pays
    once, the others see the entitlement already paid."""
    import threading

    payer = make_user("payer-threads", rights=[READ, UPDATE], districts=["AD"])
    cycle = PaymentCycleFactory(code="2025-May", status=ACTIVE)
    ann = entitlement(cycle, PaymentPlanFactory(), individual=IndividualFactory(location=villages[0]), code="E-T")
    content = f"code,status,paid_amount,receipt,date\nE-T,PAID,1500.00,R,{PAID_ON}\n".encode()
    threads, barrier, outcomes = 4, threading.Barrier(4), []

    def worker():
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            outcomes.append(payroll.reconcile(payer, payment_cycle_id=cycle.id, upload=io.BytesIO(content)))
        except payroll.InvalidRows as exc:
            outcomes.append(exc.rows)
        except Exception as exc:  # surfaced by the assertion below
            outcomes.append(exc)
        finally:
            thread_connection.close()

    running = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    assert sorted(map(str, outcomes)) == sorted(
        [str({"paid": 1, "failed": 0})] + [str([{"row": 2, "code": "E-T", "reason": "already paid"}])] * 3)
    assert Entitlement.history.filter(id=ann.id, history_type="~").count() == 1
