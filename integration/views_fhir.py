"""The FHIR R4 API: results in (POST DiagnosticReport), records out (Patient, Condition, DiagnosticReport).

Every endpoint but ``metadata`` sits behind ``api.api_endpoint`` (bearer token, permission, rate and
size limits, one audit row per request); errors are OperationOutcomes. What a client may see is
decided in one place, ``scoped_patients``: the live patients of the client's teams. A patient of
another team is answered exactly as one that does not exist (404 for a read, an empty Bundle for
a search), so nothing tells a client that a record exists elsewhere (hazard H24).
docs/integration.md ("## FHIR") describes the API for the people who connect to it.
"""

import json
import re
from datetime import UTC, datetime
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_not_required
from django.db.models import F, Prefetch
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from followup import choices as c
from followup.models import FollowUpItem, Patient, PrimaryDiagnosis, Recurrence, RecurrenceSite, StagingTest

from . import fhir_in, fhir_out
from .api import api_endpoint
from .models import ApiAction, ApiClient, ApiOutcome, ExamCode, InboxMessage, MessageFormat, MessageStatus
from .services import receive

FHIR_JSON = "application/fhir+json"
ACCEPTED_CONTENT_TYPES = (FHIR_JSON, "application/json")
JSON_FORMATS = ("json", FHIR_JSON, "application/json")
DEFAULT_COUNT, MAX_COUNT = 20, 100
PAGING = {"_count", "_offset", "_format"}
# The API's CapabilityStatement date: when this API last changed.
PUBLISHED = datetime(2026, 12, 6, tzinfo=UTC)
LARGEST_ID = 2**63 - 1

ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    413: "too-costly",
    415: "not-supported",
    422: "business-rule",
    429: "throttled",
}


def respond(resource: dict, status: int = 200) -> HttpResponse:
    """JSON of a resource our R4B models accept (fhir_out.validated): nothing invalid leaves."""
    return HttpResponse(
        json.dumps(fhir_out.validated(resource), ensure_ascii=False), status=status, content_type=FHIR_JSON
    )


def refuse(request: HttpRequest, status: int, text: str, *, where: str = "") -> HttpResponse:
    """An OperationOutcome with the HTTP status: the refusal every FHIR endpoint gives."""
    code = ISSUE_CODES.get(status, "processing")
    return respond(fhir_out.operation_outcome(text, code=code, where=where), status)


def scoped_patients(client: ApiClient):
    """The patients a client may see: those of its teams, none entered in error (hazard H24).

    Every read goes through this queryset (a subquery, no query of its own); a patient outside it
    is answered as one that does not exist."""
    return Patient.objects.filter(team__in=client.teams.values("pk"))


def base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri("/fhir").rstrip("/")


class SearchError(Exception):
    """A search the API does not understand: 400 with why."""


def lenient(request: HttpRequest) -> bool:
    """FHIR's ``Prefer: handling=lenient``: unknown search parameters are ignored, not refused."""
    return "handling=lenient" in request.headers.get("Prefer", "").replace(" ", "")


def search_params(request: HttpRequest, known: set[str]) -> tuple[dict[str, str], int, int]:
    """(the search's own parameters, _count, _offset); unknown or repeated parameters refused."""
    params: dict[str, str] = {}
    for name in request.GET:
        values = request.GET.getlist(name)
        if name not in known | PAGING:
            if lenient(request):
                continue
            allowed = ", ".join(sorted(known | {"_count", "_offset"}))
            raise SearchError(f"The search parameter '{name}' is not supported here (supported: {allowed}).")
        if len(values) > 1:
            raise SearchError(f"Give the search parameter '{name}' once.")
        params[name] = values[0].strip()
    if params.pop("_format", "json") not in JSON_FORMATS:
        raise SearchError("Only JSON is served: leave out _format or give _format=json.")
    count = _number(params.pop("_count", ""), "_count", DEFAULT_COUNT)
    offset = _number(params.pop("_offset", ""), "_offset", 0)
    if count < 1:
        raise SearchError("_count must be 1 or more.")
    return params, min(count, MAX_COUNT), offset


def _number(value: str, name: str, default: int) -> int:
    if value == "":
        return default
    if not re.fullmatch(r"[0-9]{1,9}", value):
        raise SearchError(f"{name} must be a whole number, not '{value}'.")
    return int(value)


def patient_id(value: str) -> int | None:
    """``123`` or ``Patient/123`` as our key; anything else names no patient (None)."""
    match = re.fullmatch(r"(?:Patient/)?([0-9]{1,19})", value)
    if match is None or int(match.group(1)) > LARGEST_ID:
        return None
    return int(match.group(1))


def searchset(request: HttpRequest, *, params: dict, count: int, offset: int, total: int, resources: list) -> dict:
    """A searchset Bundle with self / next / previous links that keep the search and page by _offset."""

    def url(at: int) -> str:
        return request.build_absolute_uri(request.path) + "?" + urlencode({**params, "_count": count, "_offset": at})

    links = {"self": url(offset)}
    if offset + count < total:
        links["next"] = url(offset + count)
    if offset > 0:
        links["previous"] = url(max(offset - count, 0))
    return fhir_out.bundle(base=base_url(request), resources=resources, total=total, links=links)


def audited(request: HttpRequest, patient_ids, *, outcome: str = ApiOutcome.ACCEPTED, detail: str = "") -> None:
    request.api_audit = {"outcome": outcome, "detail": detail, "patient_ids": sorted(set(patient_ids))}


def read_endpoint(view):
    """GET only, behind the gate (needs "read"); a SearchError becomes 400."""

    def inner(request: HttpRequest, client: ApiClient, *args, **kwargs) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            audited(request, [], outcome=ApiOutcome.ERROR, detail=f"{request.method} is not supported here.")
            response = refuse(request, 405, f"{request.method} is not supported here: use GET.")
            response["Allow"] = "GET"
            return response
        try:
            return view(request, client, *args, **kwargs)
        except SearchError as error:
            audited(request, [], outcome=ApiOutcome.ERROR, detail=str(error))
            return refuse(request, 400, str(error))

    inner.__name__ = view.__name__
    inner.__doc__ = view.__doc__
    return api_endpoint(action=ApiAction.FHIR_READ, needs="read", refuse=refuse)(inner)


@csrf_exempt
@login_not_required
def metadata(request: HttpRequest) -> HttpResponse:
    """The CapabilityStatement: public, as FHIR servers serve it (it says what the API does, nothing
    about any patient), so a client can discover the API before it holds a token."""
    if request.method not in ("GET", "HEAD"):
        response = refuse(request, 405, f"{request.method} is not supported here: use GET.")
        response["Allow"] = "GET"
        return response
    return respond(fhir_out.capability_statement(base=base_url(request), published=PUBLISHED))


@read_endpoint
def patient_search(request: HttpRequest, client: ApiClient) -> HttpResponse:
    """Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9434765919 (or _id, or no filter: every
    patient of the client's teams), paged."""
    params, count, offset = search_params(request, {"identifier", "_id"})
    patients = scoped_patients(client).select_related("gp_practice").order_by("pk")
    if "identifier" in params:
        system, bar, value = params["identifier"].rpartition("|")
        value = value.replace(" ", "")
        if (bar and system and system != fhir_out.NHS_NUMBER_SYSTEM) or not value:
            patients = patients.none()  # only the NHS number is searchable; another system finds nobody
        else:
            patients = patients.filter(nhs_number=value)
    if "_id" in params:
        key = patient_id(params["_id"])
        patients = patients.filter(pk=key) if key is not None else patients.none()
    # count, then the page: two queries however many patients.
    total = patients.count()
    rows = list(patients[offset : offset + count]) if total > offset else []
    audited(request, [row.pk for row in rows])
    resources = [fhir_out.patient(row) for row in rows]
    return respond(searchset(request, params=params, count=count, offset=offset, total=total, resources=resources))


@read_endpoint
def patient_read(request: HttpRequest, client: ApiClient, pk: int) -> HttpResponse:
    """Patient/{id}: 404 for a patient of another team, exactly as for one that does not exist."""
    row = None
    if pk <= LARGEST_ID:
        row = scoped_patients(client).select_related("gp_practice").filter(pk=pk).first()
    if row is None:
        audited(request, [], outcome=ApiOutcome.NOT_FOUND, detail=f"Patient/{pk} not found.")
        return refuse(request, 404, f"Patient/{pk} is not known here.")
    audited(request, [row.pk])
    return respond(fhir_out.patient(row))


def _patient_of_search(params: dict) -> int | None:
    if "patient" not in params:
        raise SearchError("Give the patient: ?patient=<id> (search Patient by NHS number for the id).")
    return patient_id(params["patient"])


def _page(resources: list, count: int, offset: int) -> list:
    return resources[offset : offset + count]


@read_endpoint
def condition_search(request: HttpRequest, client: ApiClient) -> HttpResponse:
    """Condition?patient=<id>: the primary breast cancer, and each recurrence (distant ones as mCODE
    SecondaryCancerCondition). A patient has few: all are read (two queries, three with sites), then paged."""
    params, count, offset = search_params(request, {"patient"})
    key = _patient_of_search(params)
    patients = scoped_patients(client).filter(pk=key) if key is not None else Patient.objects.none()
    primaries = list(PrimaryDiagnosis.objects.filter(patient__in=patients).order_by("diagnosed_on", "pk"))
    recurrences = list(
        Recurrence.objects.filter(patient__in=patients)
        .prefetch_related(Prefetch("sites", queryset=RecurrenceSite.objects.order_by("pk")))
        .order_by("diagnosed_on", "pk")
    )
    resources = [fhir_out.primary_condition(row) for row in primaries]
    resources += [fhir_out.recurrence_condition(row) for row in recurrences]
    page = _page(resources, count, offset)
    audited(request, [key] if page else [])
    return respond(searchset(request, params=params, count=count, offset=offset, total=len(resources), resources=page))


def _code_map() -> tuple[dict, dict]:
    """The active code map's rows by staging modality and by follow-up kind (one query)."""
    by_modality: dict[str, list] = {}
    by_kind: dict[str, list] = {}
    for row in ExamCode.objects.filter(active=True).order_by("system", "code"):
        if row.staging_modality:
            by_modality.setdefault(row.staging_modality, []).append(row)
        if row.followup_kind:
            by_kind.setdefault(row.followup_kind, []).append(row)
    return by_modality, by_kind


def diagnostic_report_search(request: HttpRequest, client: ApiClient) -> HttpResponse:
    """DiagnosticReport?patient=<id>: each staging test with a result and each follow-up result,
    oldest first (four queries: tests, their distant sites, follow-up items, the code map)."""
    params, count, offset = search_params(request, {"patient"})
    key = _patient_of_search(params)
    patients = scoped_patients(client).filter(pk=key) if key is not None else Patient.objects.none()
    tests = list(
        StagingTest.objects.live()
        .filter(episode__recurrence__patient__in=patients)
        .exclude(result="")
        .annotate(fhir_patient_id=F("episode__recurrence__patient_id"))
        .prefetch_related("sites")
        .order_by("performed_on", "pk")
    )
    items = list(
        FollowUpItem.objects.live()
        .filter(patient__in=patients, status=c.FollowUpStatus.DONE)
        .exclude(result="")
        .order_by("done_on", "pk")
    )
    by_modality, by_kind = _code_map()
    dated = [
        (test.performed_on, fhir_out.staging_report(test, patient_id=test.fhir_patient_id, code_map=by_modality))
        for test in tests
    ]
    dated += [(item.done_on, fhir_out.followup_report(item, code_map=by_kind)) for item in items]
    dated.sort(key=lambda pair: (pair[0], pair[1]["id"]))
    resources = [resource for _, resource in dated]
    page = _page(resources, count, offset)
    audited(request, [key] if page else [])
    return respond(searchset(request, params=params, count=count, offset=offset, total=len(resources), resources=page))


def _stored(message: InboxMessage) -> dict:
    """The report as received, with our id (the inbox message's) and when it was stored."""
    received = json.loads(message.body)
    received.pop("id", None)  # the server names what it stores
    meta = {**(received.pop("meta", None) or {}), "lastUpdated": fhir_out.instant(message.received_at)}
    return {"resourceType": received.pop("resourceType"), "id": str(message.pk), "meta": meta, **received}


def inbox_location(request: HttpRequest, message: InboxMessage) -> str:
    return f"{base_url(request)}/DiagnosticReport/_inbox/{message.pk}"


def diagnostic_report_create(request: HttpRequest, client: ApiClient) -> HttpResponse:
    """POST a DiagnosticReport: stored, read and placed (services.receive).

    201 with the stored report (matched, unmatched or an amendment: a sender is not told whether
    we found the patient); 200 with the first copy for a resend; 400 (malformed) or 422 (valid
    FHIR we cannot use) with an OperationOutcome that says why; 415 for a body that is not JSON.
    """
    if request.content_type not in ACCEPTED_CONTENT_TYPES:
        text = f"Send the report as {FHIR_JSON} (or application/json), not {request.content_type or 'no type'}."
        request.api_audit = {"outcome": ApiOutcome.ERROR, "detail": text}
        return refuse(request, 415, text)
    try:
        body = request.body.decode("utf-8")
    except UnicodeDecodeError:
        text = "The body is not UTF-8 text: FHIR JSON is always UTF-8."
        request.api_audit = {"outcome": ApiOutcome.ERROR, "detail": text}
        return refuse(request, 400, text)
    malformed = []

    def read(text: str):
        try:
            return fhir_in.read(text)
        except fhir_in.NotFhir:
            malformed.append(True)
            raise

    message = receive(client=client, format=MessageFormat.FHIR, body=body, read=read)
    request.api_audit = {"message": message, "detail": f"{message.get_status_display()}: {message.reason}".strip(": ")}
    if message.status == MessageStatus.REJECTED:
        request.api_audit["outcome"] = ApiOutcome.ERROR
        return refuse(request, 400 if malformed else 422, message.reason)
    request.api_audit["outcome"] = ApiOutcome.ACCEPTED
    stored, status = message, 201
    if message.status == MessageStatus.DUPLICATE and message.duplicate_of is not None:
        stored, status = message.duplicate_of, 200
    response = respond(_stored(stored), status)
    response["Location"] = inbox_location(request, stored)
    return response


_search = read_endpoint(diagnostic_report_search)
_create = api_endpoint(action=ApiAction.FHIR_RESULT, needs="send", refuse=refuse)(diagnostic_report_create)


@csrf_exempt
@login_not_required
def diagnostic_reports(request: HttpRequest) -> HttpResponse:
    """One path, two gates: GET searches (needs "read"), POST creates (needs "send")."""
    if request.method == "POST":
        return _create(request)
    response = _search(request)
    if response.status_code == 405:
        response["Allow"] = "GET, POST"
    return response
