"""The API clients' pages (integration/views_clients.py) and the code map in the admin site: admins only;
a token shown once and nowhere else; what each page shows; the database after each step."""

import hashlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.contrib.sessions.models import Session
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from followup import choices as c
from followup.display import show_datetime
from integration.clients import client_for_token, client_register, client_revoke
from integration.models import ApiAction, ApiClient, ApiOutcome, ApiRequest, ExamCode, MessageStatus
from tests import pages
from tests.factories import TeamFactory, UserFactory

from .factories import inbox_message

pytestmark = pytest.mark.django_db


def url(name: str, *args) -> str:
    return reverse(f"integration:{name}", args=args)


def client_urls(pk: int) -> list[str]:
    return [
        url("client_list"),
        url("client_register"),
        url("client_detail", pk),
        url("client_edit", pk),
        url("client_rotate", pk),
        url("client_revoke", pk),
    ]


@pytest.fixture
def clinician(team):
    return UserFactory(username="sam", team=team, role=c.Role.CLINICIAN)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def body(response) -> str:
    return response.content.decode()


def table_rows(html: str, table_id: str) -> list[list[str]]:
    """Each body row's cells, without the heading a phone shows inside each cell."""
    table = pages.by_id(html, table_id)
    rows = []
    for tr in pages.find(table, lambda n: n[0] == "tr" and n[1].get("class") == "nhsuk-table__row"):
        cells = pages.find(tr, lambda n: n[0] == "td")
        if cells:
            rows.append([_cell(td) for td in cells])
    return rows


def _cell(td) -> str:
    heading = pages.by_class(td, "nhsuk-table-responsive__heading")
    words = pages.text(td)
    return words[len(pages.text(heading[0])) :].strip() if heading else words


def summary(html: str, list_id: str) -> dict[str, str]:
    node = pages.by_id(html, list_id)
    return {
        pages.text(pages.find(row, lambda n: n[0] == "dt")[0]): pages.text(pages.find(row, lambda n: n[0] == "dd")[0])
        for row in pages.by_class(node, "nhsuk-summary-list__row")
    }


def field_error(html: str, field: str) -> str:
    node = pages.by_id(html, f"id_{field}-error")
    return pages.text(node) if node else ""


# Who may -------------------------------------------------------------------------------------------------------


def test_nurses_and_clinicians_are_refused_every_client_page_and_change_nothing(
    client, nurse, clinician, sender_and_token
):
    sender, token = sender_and_token
    for user in (nurse, clinician):
        client.force_login(user)
        for target in client_urls(sender.pk):
            assert client.get(target).status_code == 403, (user, target)
        form = {"name": "Mine", "teams": [nurse.team.pk], "may": ["send", "read"], "reason": "Because."}
        for target in (url("client_register"), *client_urls(sender.pk)[3:]):
            assert client.post(target, form).status_code == 403, (user, target)
    sender.refresh_from_db()
    assert (ApiClient.objects.count(), sender.is_active, sender.can_read) == (1, True, False)
    assert client_for_token(token) == sender  # not rotated


def test_a_nurse_of_another_team_is_refused_every_client_page(client, other_nurse, sender):
    # Admin pages refuse by role before looking anything up (as handing over or importing a caseload):
    # another team's nurse learns nothing about which clients exist.
    client.force_login(other_nurse)
    assert [client.get(target).status_code for target in client_urls(sender.pk)] == [403] * 6
    assert [client.get(target).status_code for target in client_urls(sender.pk + 100)] == [403] * 6


def test_an_admin_gets_every_page_and_404_for_a_client_that_does_not_exist(admin_client, sender):
    assert [admin_client.get(target).status_code for target in client_urls(sender.pk)] == [200] * 6
    missing = client_urls(sender.pk + 100)[2:]
    assert [admin_client.get(target).status_code for target in missing] == [404] * 4
    assert [admin_client.post(target).status_code for target in missing[1:]] == [404] * 3


def test_signed_out_every_client_page_sends_to_login(client, sender):
    for target in client_urls(sender.pk):
        response = client.get(target)
        assert (response.status_code, response.headers["Location"].split("?")[0]) == (302, "/accounts/login/")


def test_the_header_offers_api_clients_to_admins_only_and_marks_its_pages(client, admin_user, nurse, sender):
    def menu(target):
        root = pages.parse(body(client.get(target)))
        nav = pages.find(root, lambda n: n[0] == "nav" and n[1].get("aria-label") == "Menu")[0]
        current = [pages.text(a) for a in pages.find(nav, lambda n: n[0] == "a" and n[1].get("aria-current"))]
        return [label for label, _ in pages.links(nav)], current

    client.force_login(nurse)
    assert menu("/")[0] == ["Dashboard", "Worklists", "Patients", "Reports"]
    client.force_login(admin_user)
    assert menu("/")[0] == ["Dashboard", "Worklists", "Patients", "Reports", "API clients", "Alerts", "Admin"]
    for target in client_urls(sender.pk):
        assert menu(target)[1] == ["API clients"], target


# The list ------------------------------------------------------------------------------------------------------


def test_the_list_shows_each_client_its_teams_permissions_status_and_recent_requests(
    admin_client, admin_user, team, other_team, sender, reader_and_token
):
    reader, _ = reader_and_token
    both, _ = client_register(
        name="Pathology engine", teams=[other_team, team], can_send=True, can_read=True, by=admin_user
    )
    client_revoke(client=reader, reason="Replaced.", by=admin_user)
    now = timezone.now()
    for at in (now - timedelta(hours=1), now - timedelta(hours=23), now - timedelta(hours=25)):
        ApiRequest.objects.create(
            client=sender, at=at, action=ApiAction.HL7_RESULT, method="POST", path="/api/hl7/v2/",
            outcome=ApiOutcome.ACCEPTED, status_code=200,
        )  # fmt: skip
    ApiClient.objects.filter(pk=sender.pk).update(last_used_at=now - timedelta(hours=1))
    sender.refresh_from_db()
    html = body(admin_client.get(url("client_list")))
    issued = {client.pk: show_datetime(client.token_issued_at) for client in (sender, reader, both)}
    assert table_rows(html, "clients") == [
        ["North RIS", "North Breast Unit", "Send results", "Active", issued[sender.pk],
         show_datetime(sender.last_used_at), "2"],
        ["Pathology engine", "North Breast Unit, South Breast Unit", "Send results, read records", "Active",
         issued[both.pk], "Never", "0"],
        ["Regional record", "North Breast Unit", "Read records", "Revoked", issued[reader.pk], "Never", "0"],
    ]  # fmt: skip
    assert pages.links(pages.by_id(html, "clients"))[0] == ("North RIS", url("client_detail", sender.pk))


def test_the_list_with_no_client_says_so(admin_client):
    html = body(admin_client.get(url("client_list")))
    assert table_rows(html, "clients") == [["No system is registered yet."]]
    assert pages.by_id(html, "register-client")[1]["href"] == url("client_register")


@pytest.mark.parametrize("rows", [1, 3])
def test_the_list_query_count_is_constant(admin_client, admin_user, team, rows, django_assert_num_queries):
    for n in range(rows):
        client, _ = client_register(
            name=f"System {n}", teams=[team, TeamFactory()], can_send=True, can_read=False, by=admin_user
        )
        ApiRequest.objects.create(
            client=client, action=ApiAction.HL7_RESULT, method="POST", path="/", outcome="accepted", status_code=200
        )
    # session, user, the clients with their request count (one subquery each, in the same query), their teams
    with django_assert_num_queries(4):
        response = admin_client.get(url("client_list"))
    assert len(table_rows(body(response), "clients")) == rows


# Registering: the token shown once -------------------------------------------------------------------------------


def everything_stored() -> str:
    """Every row of every table (history, sessions and the audit included), sessions decoded, as text."""
    dump = []
    # Every table there is: on SQLite the worker's (procrastinate) models have none (PostgreSQL only).
    tables = set(connection.introspection.table_names())
    for model in apps.get_models(include_auto_created=True):
        if model._meta.db_table in tables:
            dump.append(repr(list(model._default_manager.values())))
    for session in Session.objects.all():
        dump.append(repr(session.get_decoded()))
    return "\n".join(dump)


def register(http, **changes):
    form = {"name": "Pathology engine", "teams": [], "may": ["send"]} | changes
    return http.post(url("client_register"), form)


def test_register_shows_the_token_once_and_stores_only_its_digest(admin_client, admin_user, team, other_team, caplog):
    with caplog.at_level("DEBUG"):
        response = register(admin_client, teams=[team.pk, other_team.pk], may=["send", "read"])
    assert response.status_code == 200
    html = body(response)
    token = pages.text(pages.by_id(html, "token"))
    client = ApiClient.objects.get()
    # The page: the warning, the token, the header to send it in; never kept by a browser.
    assert pages.text(pages.by_id(html, "token-warning")).startswith(
        "Important: Copy this token now: it will not be shown again"
    )
    assert pages.text(pages.by_id(html, "token-header")) == f"Authorization: Bearer {token}"
    assert "no-store" in response.headers["Cache-Control"] and "private" in response.headers["Cache-Control"]
    assert pages.links(pages.by_id(html, "maincontent"))[-1] == (
        "I have copied the token: go to Pathology engine",
        url("client_detail", client.pk),
    )
    # The database: the client as asked, its interface account, the digest and prefix of the token only.
    assert (client.name, client.can_send, client.can_read, client.created_by) == (
        "Pathology engine",
        True,
        True,
        admin_user,
    )
    assert set(client.teams.all()) == {team, other_team}
    assert (client.user.role, client.user.is_active, client.user.has_usable_password()) == (
        c.Role.INTERFACE,
        False,
        False,
    )
    assert client.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token.startswith(f"ftk_{client.token_prefix}_")
    assert list(client.history.values_list("history_type", "history_user")) == [("+", admin_user.pk)]
    assert client_for_token(token) == client
    # Nowhere after that: no later page, no table (history and sessions included), no log line.
    later = [admin_client.get(target) for target in client_urls(client.pk)[:5]]
    assert [token in body(page) for page in later] == [False] * 5
    secret = token.rsplit("_", 1)[1]
    stored = everything_stored()
    assert token not in stored and secret not in stored
    assert token not in caplog.text


def test_register_refuses_bad_input_beside_each_field_and_creates_nothing(admin_client, team, sender):
    response = admin_client.post(url("client_register"), {"name": " ", "teams": [], "may": []})
    html = body(response)
    assert (response.status_code, ApiClient.objects.count()) == (200, 1)
    assert field_error(html, "name") == "Error: Enter the system's name."
    assert field_error(html, "teams") == "Error: Choose the teams whose patients it may see."
    assert field_error(html, "may") == "Error: Choose what it may do: send results, read records, or both."
    assert pages.links(pages.by_class(pages.parse(html), "nhsuk-error-summary")[0]) == [
        ("Enter the system's name.", "#id_name"),
        ("Choose the teams whose patients it may see.", "#id_teams_0"),
        ("Choose what it may do: send results, read records, or both.", "#id_may_0"),
    ]
    assert pages.by_id(html, "token") is None
    # A name taken already (in any case): beside the name, what was typed kept.
    taken = body(register(admin_client, name="north ris", teams=[team.pk]))
    assert field_error(taken, "name") == "Error: A client with this name is registered already."
    assert pages.by_id(taken, "id_name")[1]["value"] == "north ris"
    assert ApiClient.objects.count() == 1


# Changing teams and permissions -----------------------------------------------------------------------------------


def test_edit_changes_teams_and_permissions_with_history_and_keeps_the_token(
    admin_client, admin_user, team, other_team, sender_and_token
):
    sender, token = sender_and_token
    form = pages.parse(body(admin_client.get(url("client_edit", sender.pk))))
    checked = [n[1]["value"] for n in pages.find(form, lambda n: n[0] == "input" and "checked" in n[1])]
    assert checked == [str(team.pk), "send"]  # as it is now
    response = admin_client.post(url("client_edit", sender.pk), {"teams": [other_team.pk], "may": ["read"]})
    assert response.headers["Location"] == url("client_detail", sender.pk)
    sender.refresh_from_db()
    assert (list(sender.teams.all()), sender.can_send, sender.can_read) == ([other_team], False, True)
    assert sender.history.first().history_user == admin_user
    assert client_for_token(token) == sender
    detail = body(admin_client.get(url("client_detail", sender.pk)))
    assert "North RIS: teams and permissions saved. They apply to its next request." in detail
    assert summary(detail, "client-summary")["Teams"] == "South Breast Unit"
    assert summary(detail, "client-summary")["May"] == "Read records"


def test_edit_refuses_no_team_and_no_permission_beside_the_fields(admin_client, team, sender):
    html = body(admin_client.post(url("client_edit", sender.pk), {"teams": [], "may": []}))
    assert field_error(html, "teams") == "Error: Choose the teams whose patients it may see."
    assert field_error(html, "may") == "Error: Choose what it may do: send results, read records, or both."
    sender.refresh_from_db()
    assert (list(sender.teams.all()), sender.can_send, sender.history.count()) == ([team], True, 1)


# Rotating --------------------------------------------------------------------------------------------------------


def test_rotate_asks_first_then_shows_the_new_token_once_and_refuses_the_old_at_once(
    admin_client, admin_user, sender_and_token
):
    sender, old = sender_and_token
    issued = sender.token_issued_at
    confirm = body(admin_client.get(url("client_rotate", sender.pk)))
    assert "stops working as soon as you rotate" in pages.text(pages.by_id(confirm, "action-warning"))
    assert client_for_token(old) == sender  # asking changes nothing
    response = admin_client.post(url("client_rotate", sender.pk))
    new = pages.text(pages.by_id(body(response), "token"))
    assert "no-store" in response.headers["Cache-Control"]
    assert pages.headings(pages.parse(body(response)), 1) == ["A new token for North RIS"]
    assert (client_for_token(old), client_for_token(new)) == (None, sender)
    sender.refresh_from_db()
    assert sender.token_issued_at > issued
    assert sender.history.first().history_user == admin_user
    assert new not in body(admin_client.get(url("client_detail", sender.pk)))
    assert new not in everything_stored() and old not in everything_stored()


# Revoking --------------------------------------------------------------------------------------------------------


def test_revoke_needs_a_reason_beside_the_field(admin_client, sender_and_token):
    sender, token = sender_and_token
    html = body(admin_client.post(url("client_revoke", sender.pk), {"reason": "  "}))
    assert field_error(html, "reason") == "Error: Give a reason for revoking."
    sender.refresh_from_db()
    assert (sender.is_active, client_for_token(token)) == (True, sender)


def test_revoke_refuses_the_token_at_once_and_the_page_says_who_when_and_why(
    admin_client, admin_user, sender_and_token
):
    sender, token = sender_and_token
    confirm = body(admin_client.get(url("client_revoke", sender.pk)))
    assert "stops working at once and for good" in pages.text(pages.by_id(confirm, "action-warning"))
    response = admin_client.post(url("client_revoke", sender.pk), {"reason": "Replaced by the new RIS."})
    assert response.headers["Location"] == url("client_detail", sender.pk)
    sender.refresh_from_db()
    assert (sender.revoked_by, sender.revoke_reason, client_for_token(token)) == (
        admin_user,
        "Replaced by the new RIS.",
        None,
    )
    assert sender.history.first().history_user == admin_user
    detail = body(admin_client.get(url("client_detail", sender.pk)))
    assert summary(detail, "client-summary")["Revoked"] == (
        f"{show_datetime(sender.revoked_at)} by {admin_user.get_full_name() or admin_user.username}: "
        "Replaced by the new RIS."
    )
    assert pages.by_id(detail, "client-actions") is None  # nothing more to do with it
    # Its action pages send back to it, saying why; nothing changes.
    for name in ("client_edit", "client_rotate", "client_revoke"):
        again = admin_client.post(url(name, sender.pk), {"teams": [], "may": ["read"], "reason": "Again."}, follow=True)
        assert "North RIS is revoked: register a new client instead." in body(again), name
    sender.refresh_from_db()
    assert (sender.revoke_reason, sender.can_read, client_for_token(token)) == ("Replaced by the new RIS.", False, None)


# The client's page: its request log and its messages -------------------------------------------------------------


def _requests(client, n: int, *, start=None) -> list[ApiRequest]:
    start = start or timezone.now() - timedelta(hours=1)
    return ApiRequest.objects.bulk_create(
        ApiRequest(
            client=client, at=start + timedelta(seconds=i), action=ApiAction.HL7_RESULT, method="POST",
            path="/api/hl7/v2/", outcome=ApiOutcome.ERROR if i % 2 else ApiOutcome.ACCEPTED,
            status_code=200, detail=f"Message {i}",
        )
        for i in range(n)
    )  # fmt: skip


def test_the_client_page_shows_its_requests_newest_first_and_its_messages_by_status(
    admin_client, sender, reader_and_token
):
    reader, _ = reader_and_token
    _requests(sender, 2)
    ApiRequest.objects.create(
        client=reader, action=ApiAction.FHIR_READ, method="GET", path="/fhir/Patient", outcome="accepted",
        status_code=200,
    )  # fmt: skip
    first = inbox_message(sender, body="MSH|1")
    first.save()
    inbox_message(
        sender, body="MSH|2", status=MessageStatus.UNMATCHED, reason="No patient with this NHS number."
    ).save()
    inbox_message(sender, body="MSH|3", status=MessageStatus.DUPLICATE, duplicate_of=first).save()
    html = body(admin_client.get(url("client_detail", sender.pk)))
    newest, oldest = ApiRequest.objects.filter(client=sender).order_by("-at")
    assert table_rows(html, "client-requests") == [
        [show_datetime(newest.at), "HL7v2 result received", "Not understood", "200", "Message 1", "POST /api/hl7/v2/"],
        [show_datetime(oldest.at), "HL7v2 result received", "Accepted", "200", "Message 0", "POST /api/hl7/v2/"],
    ]
    assert summary(html, "client-inbox") == {
        "Received, not yet read": "1",
        "Matched": "0",
        "Unmatched": "1",
        "Duplicate": "1",
        "Rejected": "0",
        "Not ours": "0",
        "All messages": "3",
    }
    assert summary(html, "client-summary")["Teams"] == "North Breast Unit"
    assert pages.links(pages.by_id(html, "client-actions")) == [
        ("Change its teams or what it may do", url("client_edit", sender.pk)),
        ("Rotate its token", url("client_rotate", sender.pk)),
        ("Revoke it", url("client_revoke", sender.pk)),
    ]


def test_the_request_log_pages_by_25_without_counting_the_whole_log(admin_client, sender):
    _requests(sender, 30)
    first = body(admin_client.get(url("client_detail", sender.pk)))
    rows = table_rows(first, "client-requests")
    assert (len(rows), rows[0][4], rows[-1][4]) == (25, "Message 29", "Message 5")
    nav = pages.find(pages.parse(first), lambda n: n[0] == "nav" and n[1].get("aria-label") == "Pagination")[0]
    assert pages.links(nav) == [("Older requests : Page 2", "?page=2")]
    second = body(admin_client.get(url("client_detail", sender.pk), {"page": 2}))
    assert [row[4] for row in table_rows(second, "client-requests")] == [f"Message {i}" for i in range(4, -1, -1)]
    nav = pages.find(pages.parse(second), lambda n: n[0] == "nav" and n[1].get("aria-label") == "Pagination")[0]
    assert pages.links(nav) == [("Newer requests : Page 1", "?page=1")]
    past = body(admin_client.get(url("client_detail", sender.pk), {"page": 9}))
    assert table_rows(past, "client-requests") == [["No requests on this page."]]
    assert admin_client.get(url("client_detail", sender.pk), {"page": "x"}).status_code == 200


@pytest.mark.parametrize("rows", [1, 3])
def test_the_client_page_query_count_is_constant(admin_client, sender, rows, django_assert_num_queries):
    _requests(sender, rows)
    for n in range(rows):
        inbox_message(sender, body=f"MSH|{n}").save()
    # session, user, the client (with who registered it), its requests, its message counts, its teams
    with django_assert_num_queries(6):
        response = admin_client.get(url("client_detail", sender.pk))
    assert len(table_rows(body(response), "client-requests")) == rows


# The code map in the admin site -------------------------------------------------------------------------------


def test_an_admin_keeps_the_code_map_in_the_admin_site_with_its_history(client, admin_user):
    client.force_login(admin_user)
    add = reverse("admin:integration_examcode_add")
    fields = {"system": "LOCAL", "code": "XMAMB", "display": "Mammogram both sides", "staging_modality": "",
              "followup_kind": c.FollowUpKind.MAMMOGRAM, "active": "on"}  # fmt: skip
    assert client.post(add, fields).status_code == 302
    code = ExamCode.objects.get(system="LOCAL", code="XMAMB")
    change = reverse("admin:integration_examcode_change", args=[code.pk])
    assert client.post(change, fields | {"active": ""}).status_code == 302
    code.refresh_from_db()
    assert code.active is False
    assert list(code.history.values_list("history_type", "history_user")) == [
        ("~", admin_user.pk),
        ("+", admin_user.pk),
    ]
    history = client.get(reverse("admin:integration_examcode_history", args=[code.pk]))
    assert history.status_code == 200 and "Mammogram both sides" in body(history)
    # A code mapped to nothing is refused by the model's own rule.
    refused = client.post(add, fields | {"code": "XNONE", "followup_kind": ""})
    assert "Map the code to a staging test, a follow-up item, or both." in body(refused)
    assert not ExamCode.objects.filter(code="XNONE").exists()


def test_the_code_map_list_filters_and_searches(client, admin_user):
    client.force_login(admin_user)
    changelist = reverse("admin:integration_examcode_changelist")
    seeded = ExamCode.objects.count()
    assert seeded > 0  # seeded by the migration
    response = client.get(changelist)
    assert response.context["cl"].result_count == seeded
    assert set(response.context["cl"].list_filter) == {"system", "active", "staging_modality", "followup_kind"}
    loinc = list(ExamCode.objects.filter(system="LN"))
    assert list(client.get(changelist, {"system__exact": "LN"}).context["cl"].result_list) == loinc
    one = ExamCode.objects.first()
    assert one in list(client.get(changelist, {"q": one.code}).context["cl"].result_list)


def test_nobody_deletes_a_code_and_a_nurse_with_admin_site_access_may_not_touch_the_map(client, admin_user, nurse):
    code = ExamCode.objects.first()
    client.force_login(admin_user)
    assert client.post(reverse("admin:integration_examcode_delete", args=[code.pk]), {"post": "yes"}).status_code == 403
    nurse.is_staff = True
    nurse.save()
    nurse.user_permissions.set(Permission.objects.filter(codename__endswith="_examcode"))
    client.force_login(nurse)
    assert client.get(reverse("admin:integration_examcode_changelist")).status_code == 403
    change = reverse("admin:integration_examcode_change", args=[code.pk])
    assert client.get(change).status_code == 403
    assert client.post(change, {"system": code.system, "code": code.code, "display": "Hijacked"}).status_code == 403
    assert ExamCode.objects.filter(pk=code.pk, display="Hijacked").exists() is False


def test_the_request_log_is_read_only_in_the_admin_site_and_shows_unknown_tokens(client, admin_user, nurse, sender):
    known = ApiRequest.objects.create(
        client=sender, action=ApiAction.HL7_RESULT, method="POST", path="/api/hl7/v2/", outcome="accepted",
        status_code=200,
    )  # fmt: skip
    unknown = ApiRequest.objects.create(
        client=None, action=ApiAction.FHIR_READ, method="GET", path="/fhir/metadata", outcome="refused",
        status_code=401, remote_addr="192.0.2.7",
    )  # fmt: skip
    changelist = reverse("admin:integration_apirequest_changelist")
    client.force_login(admin_user)
    assert list(client.get(changelist).context["cl"].result_list) == [unknown, known]
    assert list(client.get(changelist, {"client__isnull": "True"}).context["cl"].result_list) == [unknown]
    assert list(client.get(changelist, {"q": "192.0.2.7"}).context["cl"].result_list) == [unknown]
    change = reverse("admin:integration_apirequest_change", args=[known.pk])
    assert client.get(change).status_code == 200  # to read
    assert client.post(change, {"outcome": "refused"}).status_code == 403
    assert client.get(reverse("admin:integration_apirequest_add")).status_code == 403
    assert (
        client.post(reverse("admin:integration_apirequest_delete", args=[known.pk]), {"post": "yes"}).status_code == 403
    )
    assert ApiRequest.objects.get(pk=known.pk).outcome == "accepted"
    nurse.is_staff = True
    nurse.save()
    client.force_login(nurse)
    assert client.get(changelist).status_code == 403
