"""Report communication_by_notification_report (spec §10, §13.10) over HTTP: rights, region/district/officer
selection, modes 0-4 with their counts, the alternative contact, JSON, CSV and a printable PDF; bad input → 400."""
import csv
import io
import json
import re
import zlib

import pytest
from rest_framework.test import APIClient

from core.test_helpers import assign_user_districts
from core import pdf as core_pdf
from policy_notification import report
from tests.factories import LocationFactory
from tests.policy_notification.helpers_e import household

URL = "/api/policy_notification/communication_by_notification_report/"
REPORT_RIGHT = 131224


@pytest.fixture
def area(db):
    region = LocationFactory(type="R", code="R1", name="Coast")
    district = LocationFactory(type="D", code="D1", name="Bagamoyo", parent=region)
    ward = LocationFactory(type="W", code="W1", name="Kiromo", parent=district)
    village = LocationFactory(type="V", code="V1", name="Mapinga", parent=ward)
    other_district = LocationFactory(type="D", code="D2", name="Kibaha", parent=region)
    other_village = LocationFactory(type="V", code="V2", name="Mlandizi",
                                    parent=LocationFactory(type="W", code="W2", name="Kongowe", parent=other_district))
    households = {
        "reachable": household(code="HH-1", consent=True, phone="+255712000001", location=village),
        "no_phone": household(code="HH-2", consent=True, phone=None, location=village, head=("Baraka", "Ali")),
        "no_consent": household(code="HH-3", consent=False, phone=None, location=village, language="fr",
                                members=[("Neema", "Mushi", "+255712000003")]),
        "neither": household(code="HH-4", consent=False, phone=None, location=village),
        "elsewhere": household(code="HH-5", consent=True, phone="+255712000005", location=other_village),
        "group_phone": household(code="HH-6", consent=False, phone=None, location=ward, group_phone="0712000006"),
    }
    return {"region": region, "district": district, "ward": ward, "village": village,
            "other_district": other_district, "households": households}


@pytest.fixture
def reporter(area, make_user):
    """A district officer of both districts (row security: a user sees the households of their districts)."""
    return make_user("reporter", rights=[REPORT_RIGHT], districts=["D1", "D2"])


def get(user, **params):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client.get(URL, params)


def codes(payload):
    return sorted(f["family_head_chf"] for f in payload["family_sms_list"])


def test_rights_are_required(area, make_user):
    params = {"regionUuid": str(area["region"].uuid), "format": "json"}
    assert get(None, **params).status_code in (401, 403)
    refused = get(make_user("clerk", rights=[180001]), **params)
    assert refused.status_code == 403 and refused.json() == {"success": False, "error": "Unauthorized"}


def test_region_only_lists_every_household_of_the_region(area, reporter):
    answer = get(reporter, regionUuid=str(area["region"].uuid), format="json")
    assert answer.status_code == 200, answer.content
    payload = answer.json()
    assert payload["report_region"] == "R1 Coast" and payload["report_district"] == ""
    assert payload["report_mode"] == "All" and payload["report_officer_code"] == ""
    assert codes(payload) == ["HH-1", "HH-2", "HH-3", "HH-4", "HH-5", "HH-6"]
    assert {c["mode"]: c["count"] for c in payload["report_counts"]} == {0: 6, 1: 2, 2: 1, 3: 2, 4: 1}


def test_district_gives_its_region_and_only_its_households(area, reporter):
    payload = get(reporter, districtUuid=str(area["district"].uuid), format="json").json()
    assert payload["report_region"] == "R1 Coast" and payload["report_district"] == "D1 Bagamoyo"
    assert codes(payload) == ["HH-1", "HH-2", "HH-3", "HH-4", "HH-6"]
    first = next(f for f in payload["family_sms_list"] if f["family_head_chf"] == "HH-1")
    assert first == {
        "family_region": "R1 Coast", "family_district": "D1 Bagamoyo", "family_municipality": "W1 Kiromo",
        "family_village": "V1 Mapinga", "family_head_chf": "HH-1", "family_head_given_name": "Amina",
        "family_head_last_name": "Juma", "family_notification_approval": "True",
        "family_notification_language": "en", "family_head_phone": "+255712000001",
        "family_alternative_given_name": "", "family_alternative_last_name": "", "family_alternative_phone": ""}


@pytest.mark.parametrize("mode, expected", [("0", ["HH-1", "HH-2", "HH-3", "HH-4", "HH-6"]), ("1", ["HH-1"]),
                                            ("2", ["HH-2"]), ("3", ["HH-3", "HH-6"]), ("4", ["HH-4"])])
def test_each_mode_selects_its_households(area, reporter, mode, expected):
    payload = get(reporter, districtUuid=str(area["district"].uuid), mode=mode, format="json").json()
    assert codes(payload) == expected
    assert payload["report_mode"] == report.MODES[int(mode)]
    # the counts describe the whole selection whatever the mode listed
    assert {c["mode"]: c["count"] for c in payload["report_counts"]} == {0: 5, 1: 1, 2: 1, 3: 2, 4: 1}


def test_alternative_contact_when_the_head_has_no_phone(area, reporter):
    payload = get(reporter, districtUuid=str(area["district"].uuid), format="json").json()
    by_code = {f["family_head_chf"]: f for f in payload["family_sms_list"]}
    member = by_code["HH-3"]
    assert (member["family_head_phone"], member["family_alternative_given_name"],
            member["family_alternative_last_name"], member["family_alternative_phone"]) == (
        "", "Neema", "Mushi", "+255712000003")
    assert member["family_notification_approval"] == "False" and member["family_notification_language"] == "fr"
    nobody = by_code["HH-4"]
    assert (nobody["family_alternative_given_name"], nobody["family_alternative_last_name"],
            nobody["family_alternative_phone"]) == ("-", "-", "-")
    assert by_code["HH-6"]["family_alternative_phone"] == "0712000006"


def test_officer_filter_keeps_the_households_of_the_officers_districts(area, reporter, make_user):
    officer = make_user("officer-kibaha", rights=[], custom_props={"other_names": "Zawadi", "last_name": "Mrema"})
    assign_user_districts(officer, ["D2"])
    payload = get(reporter, regionUuid=str(area["region"].uuid), officerUuid=str(officer.id), format="json").json()
    assert codes(payload) == ["HH-5"]
    assert payload["report_officer_code"] == "officer-kibaha" and payload["report_officer_name"] == "Zawadi Mrema"


def test_the_callers_row_security_applies(area, make_user):
    restricted = make_user("reporter-d2", rights=[REPORT_RIGHT], districts=["D2"])
    payload = get(restricted, regionUuid=str(area["region"].uuid), format="json").json()
    assert codes(payload) == ["HH-5"]


def test_the_group_filter_json_gives_the_same_as_the_parameters(area, reporter):
    filters = {"parentLocation": str(area["district"].uuid), "parentLocationLevel": 1,
               "additionalFilter": json.dumps({"policyNotification": {"mode": {"value": 3}}})}
    via_filter = get(reporter, groupFilterJson=json.dumps(filters), format="json").json()
    via_params = get(reporter, districtUuid=str(area["district"].uuid), mode="3", format="json").json()
    assert codes(via_filter) == codes(via_params) == ["HH-3", "HH-6"]
    assert via_filter["report_district"] == "D1 Bagamoyo" and via_filter["report_region"] == "R1 Coast"
    alias = get(reporter, familyFilterJson=json.dumps(filters), format="json").json()
    assert codes(alias) == ["HH-3", "HH-6"]


@pytest.mark.parametrize("params, message", [
    ({"mode": "7"}, "mode must be one of"), ({"mode": "x"}, "mode must be one of"),
    ({"mode": "-1"}, "mode must be one of"), ({"regionUuid": None}, "regionUuid or districtUuid is required"),
    ({"regionUuid": "not-a-uuid"}, "regionUuid is not a UUID"),
    ({"officerUuid": "5b0b5e0c-7a4e-4c34-a1a4-1c1c1c1c1c1c"}, "officerUuid: no such user"),
    ({"format": "docx"}, "Unsupported format"),
    ({"regionUuid": None, "groupFilterJson": "{\"code\": \"HH-1\"}"}, "unsupported filter(s) code"),
    ({"regionUuid": None, "groupFilterJson": "[1"}, "not JSON"),
])
def test_bad_input_is_a_400_with_a_clear_message(area, reporter, params, message):
    query = {"regionUuid": str(area["region"].uuid), "format": "json", **params}
    answer = get(reporter, **{k: v for k, v in query.items() if v is not None})
    assert answer.status_code == 400 and message in answer.json()["error"]


def test_a_district_uuid_given_as_region_is_refused(area, reporter):
    answer = get(reporter, regionUuid=str(area["district"].uuid))
    assert answer.status_code == 400 and "no current location of type R" in answer.json()["error"]


def test_csv_lists_the_households_with_formulas_neutralised(area, reporter):
    household(code="=HYPERLINK(1)", location=area["village"])
    answer = get(reporter, districtUuid=str(area["district"].uuid), mode="1", format="csv")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(answer.streaming_content).decode())))
    assert rows[0] == report.FAMILY_COLUMNS
    assert sorted(r[4] for r in rows[1:]) == ["'=HYPERLINK(1)", "HH-1"]


def _pdf_text(data):
    """The text drawn by a PDF written with a core font: its content streams inflated."""
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S)
    return b"\n".join(zlib.decompress(s) if s[:1] == b"x" else s for s in streams).decode("latin-1")


def test_the_default_is_a_printable_pdf(area, reporter):
    answer = get(reporter, districtUuid=str(area["district"].uuid))
    assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
    data = answer.content
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type /Page\b", data)) == 1
    assert re.search(rb"/MediaBox \[0 0 841\.89 595\.28\]", data)  # A4 landscape


def test_the_pdf_shows_the_selection_counts_and_households(area, reporter, monkeypatch):
    monkeypatch.setattr(core_pdf, "FONT_CANDIDATES", ())  # a core font: the drawn text is searchable
    household(code="HH-Ñ", location=area["village"], head=("Émile", "Ngoma"))
    text = _pdf_text(get(reporter, districtUuid=str(area["district"].uuid), mode="0").content)
    for expected in ("Communication by notification", "D1 Bagamoyo", "Households per communication mode",
                     "1 - Approved and with phone", "HH-1", "Amina Juma", "+255712000001", "Neema Mushi",
                     "Households listed \\(All\\): 6", "HH-Ñ", "Émile Ngoma"):
        assert expected in text, expected


def test_a_long_list_spans_pages_with_its_header_repeated(area, reporter, monkeypatch):
    monkeypatch.setattr(core_pdf, "FONT_CANDIDATES", ())
    payload = report.build_payload(reporter, {"districtUuid": str(area["district"].uuid)})
    payload["family_sms_list"] = payload["family_sms_list"] * 40
    data = report.render_pdf(payload)
    pages = len(re.findall(rb"/Type /Page\b", data))
    assert pages >= 4
    assert _pdf_text(data).count("Alternative contact") == pages


def test_a_region_pdf_names_each_households_district(area, reporter, monkeypatch):
    monkeypatch.setattr(core_pdf, "FONT_CANDIDATES", ())
    text = _pdf_text(get(reporter, regionUuid=str(area["region"].uuid)).content)
    assert "(District) Tj" in text and "D2 Kibaha" in text and "HH-5" in text


def test_a_pdf_too_long_to_print_is_refused_with_the_alternatives(area, reporter, monkeypatch):
    monkeypatch.setattr(report, "PDF_MAX_FAMILIES", 3)
    answer = get(reporter, districtUuid=str(area["district"].uuid))
    assert answer.status_code == 400 and "too many for a printed report" in answer.json()["error"]
    assert get(reporter, districtUuid=str(area["district"].uuid), mode="1").status_code == 200
    assert get(reporter, districtUuid=str(area["district"].uuid), format="csv").status_code == 200
