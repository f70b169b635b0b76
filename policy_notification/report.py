"""Report ``communication_by_notification_report`` (spec §10, §13.10): which households of a region or district
can be reached by a message (consent, phone), as a printable PDF, JSON (the payload) or CSV (the family list).

Parameters: ``regionUuid`` or ``districtUuid`` (one required; with a district the region is its parent),
optional ``officerUuid`` (a core user: only households under that user's current districts), ``mode`` 0–4
(default 0). Or ``groupFilterJson`` (alias ``familyFilterJson``): the family searcher's filter strings
(``parentLocation``, ``parentLocationLevel``, ``officer``, ``additionalFilter`` with
``policyNotification.mode.value``); other keys are refused (a filter the report does not apply would print a
list that is not what was asked for).

Households are the non-deleted groups located under the location (any level below it, or the location itself),
within the caller's row security. A household has a phone when its head, the group itself or any live member
has a non-empty phone (``json_ext[phone_key]``, spec §13.4); it consents when its ``FamilyNotification`` row
says so.
"""
import datetime
import json
import logging
import uuid
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import BooleanField, CharField, Count, ExpressionWrapper, Q, Value
from django.db.models.functions import Coalesce
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone

from core.location import location_manager
from core.pdf import pdf_font
from core.models import Location, UserDistrict
from individual.selectors import groups_selectable, live_memberships
from policy_notification.detection import household_consents, household_has_phone
from policy_notification.models import CommunicationMode, FamilyNotification

MODES = {mode.value: str(mode.label) for mode in CommunicationMode}
FAMILY_COLUMNS = ["family_region", "family_district", "family_municipality", "family_village", "family_head_chf",
                  "family_head_given_name", "family_head_last_name", "family_notification_approval",
                  "family_notification_language", "family_head_phone", "family_alternative_given_name",
                  "family_alternative_last_name", "family_alternative_phone"]
KNOWN_FILTER_KEYS = {"parentLocation", "parentLocationLevel", "officer", "additionalFilter"}
LEVEL_TYPES = dict(enumerate(Location.LEVELS))  # parentLocationLevel 0..3 → R, D, W, V


class ReportRefused(Exception):
    """A bad parameter: answered 400 with this text."""


@dataclass
class ReportRequest:
    location: Location
    region: Location | None
    district: Location | None
    officer: object = None
    mode: int = 0
    other_filters: list = field(default_factory=list)


def _phone_key():
    return getattr(type(apps.get_app_config("policy_notification")), "phone_key", "phone") or "phone"


def _uuid(value, name):
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        raise ReportRefused(f"{name} is not a UUID: {value!r}")


def _mode(value):
    if value in (None, ""):
        return 0
    try:
        mode = int(str(value).strip())
    except ValueError:
        mode = None
    if mode not in MODES:
        raise ReportRefused(f"mode must be one of 0, 1, 2, 3, 4, not {value!r}")
    return mode


def _location(location_uuid, types, name):
    location = Location.objects.filter(uuid=_uuid(location_uuid, name), validity_to__isnull=True,
                                       type__in=types).first()
    if location is None:
        raise ReportRefused(f"{name}: no current location of type {'/'.join(types)} with this uuid")
    return location


def _officer(officer_uuid, name="officerUuid"):
    officer = (get_user_model().objects.filter(id=_uuid(officer_uuid, name)).select_related("i_user").first())
    if officer is None:
        raise ReportRefused(f"{name}: no such user")
    return officer


def _ancestor(location, location_type):
    chain = {location.type: location}
    current = location
    while current.parent_id and location_type not in chain:
        current = Location.objects.get(id=current.parent_id)
        chain[current.type] = current
    return chain.get(location_type)


def parse(params):
    """The report's parameters (a dict of strings) → :class:`ReportRequest`, or :class:`ReportRefused`."""
    filter_json = params.get("groupFilterJson") or params.get("familyFilterJson")
    if filter_json:
        return _parse_filter_json(filter_json)
    region_uuid, district_uuid = params.get("regionUuid"), params.get("districtUuid")
    if district_uuid:
        district = _location(district_uuid, ["D"], "districtUuid")
        region = _ancestor(district, "R")
        if region_uuid and (region is None or str(region.uuid) != str(_uuid(region_uuid, "regionUuid"))):
            raise ReportRefused("districtUuid is not in regionUuid")
        location = district
    elif region_uuid:
        region = location = _location(region_uuid, ["R"], "regionUuid")
        district = None
    else:
        raise ReportRefused("regionUuid or districtUuid is required")
    officer = _officer(params["officerUuid"]) if params.get("officerUuid") else None
    return ReportRequest(location, region, district, officer, _mode(params.get("mode")))


def _parse_filter_json(text):
    try:
        filters = json.loads(text)
    except ValueError:
        raise ReportRefused("groupFilterJson is not JSON")
    if not isinstance(filters, dict):
        raise ReportRefused("groupFilterJson must be a JSON object")
    unknown = sorted(set(filters) - KNOWN_FILTER_KEYS)
    if unknown:
        raise ReportRefused(f"groupFilterJson: unsupported filter(s) {', '.join(unknown)}")
    if not filters.get("parentLocation"):
        raise ReportRefused("groupFilterJson: parentLocation is required")
    try:
        level = int(filters.get("parentLocationLevel", 0))
    except (TypeError, ValueError):
        level = None
    if level not in LEVEL_TYPES:
        raise ReportRefused("groupFilterJson: parentLocationLevel must be 0, 1, 2 or 3")
    location = _location(filters["parentLocation"], [LEVEL_TYPES[level]], "parentLocation")
    mode, other = 0, []
    if filters.get("additionalFilter"):
        additional = filters["additionalFilter"]
        try:
            additional = json.loads(additional) if isinstance(additional, str) else additional
            mode = _mode(additional["policyNotification"]["mode"]["value"])
        except (ValueError, KeyError, TypeError):
            raise ReportRefused("groupFilterJson: additionalFilter must hold policyNotification.mode.value")
    officer = _officer(filters["officer"], "officer") if filters.get("officer") else None
    if location.type in ("W", "V"):
        other.append(f"location: {location.code} {location.name}")
    return ReportRequest(location, _ancestor(location, "R"), _ancestor(location, "D"), officer, mode, other)


# --- selection --------------------------------------------------------------------------------------------
def households(user, request):
    """The households of the request (mode filter not applied), annotated ``pn_consent`` and ``pn_phone`` with
    the definitions of the ``group`` query's ``policyNotification.mode`` filter (detection.py)."""
    location_ids = {request.location.id} | location_manager.children([request.location.id])
    queryset = groups_selectable(user=user).filter(location_id__in=location_ids)
    if request.officer is not None:
        districts = list(UserDistrict.objects.filter(user_id=request.officer.i_user_id, validity_to__isnull=True)
                         .values_list("location_id", flat=True)) if request.officer.i_user_id else []
        queryset = queryset.filter(location_id__in=set(districts) | location_manager.children(districts))
    # Coalesce: a plain text (a key transform's own "exact" lookup reads '' as JSON on SQLite: malformed JSON)
    group_phone = Coalesce(KeyTextTransform(_phone_key(), "json_ext"), Value(""), output_field=CharField())
    return (queryset.annotate(pn_group_phone=group_phone)
            .annotate(pn_consent=household_consents(), pn_member_phone=household_has_phone())
            .annotate(pn_phone=ExpressionWrapper(Q(pn_member_phone=True) | ~Q(pn_group_phone=""),
                                                 output_field=BooleanField())))


def mode_q(mode):
    return {0: Q(), 1: Q(pn_consent=True, pn_phone=True), 2: Q(pn_consent=True, pn_phone=False),
            3: Q(pn_consent=False, pn_phone=True), 4: Q(pn_consent=False, pn_phone=False)}[mode]


def mode_counts(queryset):
    """Households per mode in one query."""
    counts = queryset.aggregate(**{f"mode_{mode}": Count("id", filter=mode_q(mode)) for mode in MODES})
    return {mode: counts[f"mode_{mode}"] for mode in MODES}


# --- payload ---------------------------------------------------------------------------------------------
def _label(location):
    return f"{location.code} {location.name}" if location is not None else ""


def _locations_with_ancestors(ids):
    found, wanted = {}, set(ids)
    while wanted:
        rows = Location.objects.filter(id__in=wanted).only("id", "code", "name", "type", "parent_id")
        found.update({row.id: row for row in rows})
        wanted = {row.parent_id for row in rows if row.parent_id and row.parent_id not in found}
    return found


def _chain(location_id, locations):
    chain, current = {}, locations.get(location_id)
    while current is not None:
        chain.setdefault(current.type, current)
        current = locations.get(current.parent_id)
    return chain


def _phone(json_ext, key):
    value = (json_ext or {}).get(key)
    return str(value).strip() if value not in (None, "") else ""


def family_rows(queryset):
    """One dict per household (spec §10.3 keys), in a constant number of queries."""
    key = _phone_key()
    groups = list(queryset.order_by("location__code", "code", "id").values("id", "code", "json_ext", "location_id"))
    ids = [g["id"] for g in groups]
    members = {}
    for membership in (live_memberships().filter(group_id__in=ids, individual__is_deleted=False)
                       .select_related("individual").order_by("date_created", "id")):
        members.setdefault(membership.group_id, []).append(membership)
    notifications = {row["group_id"]: row for row in FamilyNotification.objects.filter(
        group_id__in=ids, is_deleted=False).values("group_id", "approval_of_notification", "language_of_notification")}
    locations = _locations_with_ancestors({g["location_id"] for g in groups if g["location_id"]})
    rows = []
    for group in groups:
        chain = _chain(group["location_id"], locations)
        group_members = members.get(group["id"], [])
        head = next((m.individual for m in group_members if m.role == "HEAD"), None)
        head_phone = _phone(head.json_ext, key) if head else ""
        alternative = ("", "", "")
        if not head_phone:
            other = next((m.individual for m in group_members
                          if m.individual is not head and _phone(m.individual.json_ext, key)), None)
            if other is not None:
                alternative = (other.first_name, other.last_name, _phone(other.json_ext, key))
            elif _phone(group["json_ext"], key):
                alternative = ("", "", _phone(group["json_ext"], key))
            else:
                alternative = ("-", "-", "-")
        notification = notifications.get(group["id"], {})
        rows.append({
            "family_region": _label(chain.get("R")), "family_district": _label(chain.get("D")),
            "family_municipality": _label(chain.get("W")), "family_village": _label(chain.get("V")),
            "family_head_chf": group["code"],
            "family_head_given_name": head.first_name if head else "",
            "family_head_last_name": head.last_name if head else "",
            "family_notification_approval": str(bool(notification.get("approval_of_notification", False))),
            "family_notification_language": notification.get("language_of_notification", ""),
            "family_head_phone": head_phone,
            "family_alternative_given_name": alternative[0], "family_alternative_last_name": alternative[1],
            "family_alternative_phone": alternative[2],
        })
    return rows


def build_payload(user, params):
    """The report's payload (spec §10.3 keys, plus ``report_counts`` per mode and ``report_date``)."""
    request = parse(params)
    selection = households(user, request)
    officer = request.officer
    i_user = getattr(officer, "i_user", None)
    return {
        "report_region": _label(request.region),
        "report_district": _label(request.district),
        "report_mode": MODES[request.mode],
        "report_mode_value": request.mode,
        "report_officer_code": officer.username if officer else "",
        "report_officer_name": f"{i_user.other_names} {i_user.last_name}" if i_user else "",
        "other_filters": "; ".join(request.other_filters),
        "report_date": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
        "report_counts": [{"mode": mode, "label": MODES[mode], "count": count}
                          for mode, count in mode_counts(selection).items()],
        "family_sms_list": family_rows(selection.filter(mode_q(request.mode))),
    }


# --- PDF -------------------------------------------------------------------------------------------------
# fpdf2 subsets the TrueType font with fontTools, which logs every glyph at INFO: not for a server's log
logging.getLogger("fontTools").setLevel(logging.WARNING)
PDF_MAX_FAMILIES = 20_000  # about 700 pages: beyond that a printed list helps nobody (CSV has no limit)
PDF_COLUMNS = [("Village", "family_village", 48), ("Ward", "family_municipality", 36),
               ("Household", "family_head_chf", 26), ("Head", "head", 44), ("Consent", "consent", 16),
               ("Lang.", "family_notification_language", 12), ("Head phone", "family_head_phone", 32),
               ("Alternative contact", "alternative", 60)]
# a region's report spans districts: the district gets a column, the others give it room
REGION_PDF_COLUMNS = [("District", "family_district", 36), ("Village", "family_village", 39),
                      ("Ward", "family_municipality", 30), ("Household", "family_head_chf", 26), ("Head", "head", 40),
                      ("Consent", "consent", 16), ("Lang.", "family_notification_language", 12),
                      ("Head phone", "family_head_phone", 28), ("Alternative contact", "alternative", 50)]


def render_pdf(payload):
    """A printable A4 landscape PDF: the selection, the counts per mode, then the household list."""
    from fpdf import FPDF

    class ReportPDF(FPDF):
        def footer(self):
            self.set_y(-10)
            self.set_font(self.report_font, "", 8)
            self.cell(0, 5, self.report_clean(f"Communication by notification - {payload['report_date']} - page "
                                              f"{self.page_no()}/{{nb}}"), align="R")

    pdf = ReportPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    font, clean = pdf_font(pdf)
    pdf.report_font, pdf.report_clean = font, clean
    pdf.set_title("Communication by notification")
    pdf.set_creator("openIMIS policy_notification")
    pdf.add_page()
    pdf.set_font(font, "B", 15)
    pdf.cell(0, 9, clean("Communication by notification"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(font, "", 10)
    header = [("Region", payload["report_region"]), ("District", payload["report_district"] or "(all)"),
              ("Enrolment officer", " ".join(filter(None, [payload["report_officer_code"],
                                                           payload["report_officer_name"]])) or "(any)"),
              ("Mode", payload["report_mode"]), ("Other filters", payload["other_filters"] or "-"),
              ("Printed", payload["report_date"])]
    for label, value in header:
        pdf.cell(40, 6, clean(f"{label}:"))
        pdf.cell(0, 6, clean(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(font, "B", 11)
    pdf.cell(0, 7, clean("Households per communication mode"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(font, "", 10)
    with pdf.table(col_widths=(90, 30), width=120, align="LEFT", text_align=("LEFT", "RIGHT"),
                   first_row_as_headings=True) as table:
        table.row([clean("Mode"), clean("Households")])
        for entry in payload["report_counts"]:
            table.row([clean(f"{entry['mode']} - {entry['label']}"), str(entry["count"])])
    pdf.ln(4)
    families = payload["family_sms_list"]
    pdf.set_font(font, "B", 11)
    pdf.cell(0, 7, clean(f"Households listed ({payload['report_mode']}): {len(families)}"), new_x="LMARGIN",
             new_y="NEXT")
    pdf.set_font(font, "", 8)
    columns = PDF_COLUMNS if payload["report_district"] else REGION_PDF_COLUMNS
    if families:
        with pdf.table(col_widths=[w for _, _, w in columns], width=sum(w for _, _, w in columns),
                       first_row_as_headings=True, repeat_headings=1, text_align="LEFT") as table:
            table.row([clean(title) for title, _, _ in columns])
            for family in families:
                alternative = [family["family_alternative_given_name"], family["family_alternative_last_name"],
                               family["family_alternative_phone"]]
                values = {**family,
                          "head": f"{family['family_head_given_name']} {family['family_head_last_name']}".strip(),
                          "consent": "Yes" if family["family_notification_approval"] == "True" else "No",
                          "alternative": "-" if alternative == ["-"] * 3 else " ".join(filter(None, alternative))}
                table.row([clean(values[key] or "") for _, key, _ in columns])
    else:
        pdf.cell(0, 6, clean("No household matches."), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def csv_columns_and_rows(payload):
    return FAMILY_COLUMNS, ([family[c] for c in FAMILY_COLUMNS] for family in payload["family_sms_list"])


def file_stem(payload):
    stamp = datetime.date.today().isoformat()
    return f"communication_by_notification_{stamp}"
