from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from knox.auth import TokenAuthentication
from knox.models import AuthToken
from rest_framework.exceptions import AuthenticationFailed

from sbsync.models import ServiceToken
from sbsync.service_tokens import issue_service_token, revoke_service_token
from tests.factories import grant, make_user, sbsync_permissions
from tests.ui.conftest import HTMX, csv_rows

PAGE = reverse("sbsync:tokens")
DAYS_30 = timedelta(days=30)


def authenticate(token: str):
    """knox's own check of a token, as the API's authentication runs it."""
    user, _ = TokenAuthentication().authenticate_credentials(token.encode())
    return user


def test_issue_shows_the_token_once_and_it_authenticates(staff_client, staff_user, trio):
    response = staff_client.post(
        PAGE, {"issue-username": "bob", "issue-name": "scanner 3", "issue-lifetime_days": "90"}
    )

    html = response.content.decode()
    token = re.search(r'<code class="token-value" id="new-token" data-token>([^<]+)</code>', html).group(1)
    record = ServiceToken.objects.get()
    assert (record.name, record.user, record.issued_by, (record.expiry - record.created_at).days) == (
        "scanner 3",
        trio.bob,
        staff_user,
        89,
    )
    assert authenticate(token) == trio.bob
    assert "no-store" in response["Cache-Control"]
    assert token not in staff_client.get(PAGE).content.decode()


def test_issue_with_lifetime_sets_the_expiry(staff_client, trio):
    staff_client.post(PAGE, {"issue-username": "bob", "issue-name": "temp", "issue-lifetime_days": "30"})

    record = ServiceToken.objects.get()
    assert (record.expiry - record.created_at).days in (29, 30)
    assert AuthToken.objects.get(digest=record.digest).expiry == record.expiry


def test_issue_over_htmx_returns_the_form_region_and_tells_the_table(staff_client, trio):
    response = staff_client.post(
        PAGE, {"issue-username": "bob", "issue-name": "scanner", "issue-lifetime_days": "7"}, headers=HTMX
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="token-issue">')
    assert 'hx-history="false"' in html
    assert response["HX-Trigger"] == '{"tokens-changed": {}}'


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"issue-username": "nobody", "issue-name": "x"}, "There is no active user named “nobody”."),
        ({"issue-username": "bob", "issue-name": ""}, "This field is required."),
        (
            {"issue-username": "bob", "issue-name": "x", "issue-lifetime_days": "0"},
            "Ensure this value is greater than or equal to 1.",
        ),
    ],
)
def test_issue_invalid_input_creates_no_token(staff_client, trio, data, message):
    response = staff_client.post(PAGE, data, headers=HTMX)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert (ServiceToken.objects.count(), AuthToken.objects.count()) == (0, 0)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"issue-username": "bob", "issue-name": "x"}, "This field is required."),
        (
            {"issue-username": "bob", "issue-name": "x", "issue-lifetime_days": "367"},
            "Ensure this value is less than or equal to 366.",
        ),
    ],
)
def test_issue_never_makes_an_endless_token(staff_client, trio, data, message):
    response = staff_client.post(PAGE, data, headers=HTMX)

    assert message in response.content.decode()
    assert (ServiceToken.objects.count(), AuthToken.objects.count()) == (0, 0)


def test_issue_service_token_refuses_no_lifetime(trio):
    with pytest.raises(ValueError, match="positive lifetime"):
        issue_service_token(user=trio.bob, name="x", issued_by=trio.alice, lifetime=None)

    assert AuthToken.objects.count() == 0


def issuer_client(*codes: str, superuser: bool = False) -> Client:
    issuer = grant(make_user(username="issuer", is_staff=True, is_superuser=superuser), *codes)
    client = Client()
    client.force_login(issuer)
    return client


ISSUE = {"issue-name": "scanner", "issue-lifetime_days": "30"}
CAN_ISSUE = ("sbsync.view_servicetoken", "sbsync.add_servicetoken")


def test_issue_for_yourself_needs_only_the_add_permission(db):
    client = issuer_client(*CAN_ISSUE)

    client.post(PAGE, {**ISSUE, "issue-username": "issuer"})

    assert ServiceToken.objects.get().user.username == "issuer"


def test_issue_for_another_user_without_the_dedicated_permission_is_refused(trio):
    client = issuer_client(*CAN_ISSUE)

    response = client.post(PAGE, {**ISSUE, "issue-username": "bob"})

    assert "You may issue tokens only for yourself" in response.content.decode()
    assert (ServiceToken.objects.count(), AuthToken.objects.count()) == (0, 0)


def test_issue_for_another_user_with_the_dedicated_permission(trio):
    client = issuer_client(*CAN_ISSUE, "sbsync.issue_token_for_others")

    client.post(PAGE, {**ISSUE, "issue-username": "bob"})

    assert ServiceToken.objects.get().user == trio.bob


def test_issue_for_a_superuser_is_refused_to_staff_holding_every_permission(db):
    make_user(username="root", is_staff=True, is_superuser=True)
    client = issuer_client(*sbsync_permissions())

    response = client.post(PAGE, {**ISSUE, "issue-username": "root"})

    assert "Only a superuser may issue a token for a superuser." in response.content.decode()
    assert (ServiceToken.objects.count(), AuthToken.objects.count()) == (0, 0)


def test_issue_for_a_superuser_by_a_superuser(db):
    root = make_user(username="root", is_staff=True, is_superuser=True)
    client = issuer_client(superuser=True)

    client.post(PAGE, {**ISSUE, "issue-username": "root"})

    assert ServiceToken.objects.get().user == root


def test_issue_for_an_inactive_user_is_refused(staff_client, db):
    make_user(username="retired", is_active=False)

    response = staff_client.post(PAGE, {"issue-username": "retired", "issue-name": "x"})

    assert "There is no active user named “retired”." in response.content.decode()
    assert ServiceToken.objects.count() == 0


def test_revoke_stops_the_token_at_once(staff_client, staff_user, trio):
    record, token = issue_service_token(user=trio.bob, name="scanner", issued_by=staff_user, lifetime=DAYS_30)

    response = staff_client.post(reverse("sbsync:token-revoke", args=[record.pk]))

    assert response["Location"] == PAGE
    with pytest.raises(AuthenticationFailed):
        authenticate(token)
    assert ServiceToken.objects.filter(pk=record.pk).exists()


def test_revoke_over_htmx_refreshes_the_page(staff_client, staff_user, trio):
    record, _ = issue_service_token(user=trio.bob, name="scanner", issued_by=staff_user, lifetime=DAYS_30)

    response = staff_client.post(reverse("sbsync:token-revoke", args=[record.pk]), headers=HTMX)

    assert response["HX-Refresh"] == "true"
    assert not AuthToken.objects.filter(digest=record.digest).exists()


def test_revoke_leaves_other_tokens_of_the_user_alone(staff_client, staff_user, trio):
    first, _ = issue_service_token(user=trio.bob, name="one", issued_by=staff_user, lifetime=DAYS_30)
    _, second = issue_service_token(user=trio.bob, name="two", issued_by=staff_user, lifetime=DAYS_30)

    staff_client.post(reverse("sbsync:token-revoke", args=[first.pk]))

    assert authenticate(second) == trio.bob


def test_list_shows_each_status(staff_client, staff_user, trio):
    active, _ = issue_service_token(user=trio.bob, name="active one", issued_by=staff_user, lifetime=DAYS_30)
    revoked, _ = issue_service_token(
        user=trio.bob, name="revoked one", issued_by=staff_user, lifetime=DAYS_30
    )
    revoke_service_token(revoked, revoked_by=staff_user)
    expired, _ = issue_service_token(
        user=trio.bob, name="expired one", issued_by=staff_user, lifetime=timedelta(days=1)
    )
    ServiceToken.objects.filter(pk=expired.pk).update(expiry=expired.created_at - timedelta(days=1))

    response = staff_client.get(PAGE, {"_export": "csv"})

    rows = csv_rows(response)
    assert {row[0]: row[-1] for row in rows[1:]} == {
        "active one": "active",
        "revoked one": "revoked",
        "expired one": "expired",
    }
    assert rows[0] == ["Name", "User", "Starts with", "Issued by", "Issued", "Expires", "Status"]


def test_list_filter_not_revoked(staff_client, staff_user, trio):
    issue_service_token(user=trio.bob, name="kept", issued_by=staff_user, lifetime=DAYS_30)
    gone, _ = issue_service_token(user=trio.bob, name="gone", issued_by=staff_user, lifetime=DAYS_30)
    revoke_service_token(gone, revoked_by=staff_user)

    response = staff_client.get(PAGE, {"live": "true"}, headers=HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="tokens-table"')
    assert "kept" in html and "gone" not in html


@pytest.mark.parametrize("item_count", [1, 3])
def test_list_query_count_does_not_grow_with_rows(
    staff_client, staff_user, trio, django_assert_num_queries, item_count
):
    for n in range(item_count):
        issue_service_token(user=trio.bob, name=f"t{n}", issued_by=staff_user, lifetime=DAYS_30)

    with django_assert_num_queries(6):
        staff_client.get(PAGE)


def test_list_csv_cells_are_plain_text(staff_client, staff_user, trio):
    record, _ = issue_service_token(user=trio.bob, name="scanner <3>", issued_by=staff_user, lifetime=DAYS_30)

    rows = csv_rows(staff_client.get(PAGE, {"_export": "csv"}))

    assert rows[1][:3] == ["scanner <3>", "bob", f"{record.token_key}…"]
    assert not any("<code" in cell or "<span" in cell for row in rows for cell in row)


def test_list_status_filter_reads_all_active_revoked(staff_client, db):
    html = staff_client.get(PAGE).content.decode()

    options = re.findall(r'<option value="(\w*)"[^>]*>([^<]+)</option>', html.split('name="live"')[1])
    assert options[:3] == [("", "All"), ("true", "Active"), ("false", "Revoked")]


def audit_rows(client: Client, **query: str) -> list[str]:
    page = client.get(reverse("sbsync:audit-trails"), {"model": "servicetoken", **query}).content.decode()
    body = re.split(r"<tbody[^>]*>", page, maxsplit=1)[1].split("</tbody>", 1)[0]
    return [
        html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))).strip()
        for row in body.split("</tr>")[:-1]
    ]


def test_issue_and_revoke_are_in_the_audit_trail_without_the_secret(staff_client, staff_user, trio):
    issued = staff_client.post(
        PAGE, {"issue-username": "bob", "issue-name": "scanner 3", "issue-lifetime_days": "90"}
    ).content.decode()
    token = re.search(r"data-token>([^<]+)</code>", issued).group(1)
    record = ServiceToken.objects.get()
    other, _ = issue_service_token(user=trio.alice, name="other", issued_by=staff_user, lifetime=DAYS_30)
    revoker = grant(make_user(username="revoker", is_staff=True), *sbsync_permissions())
    client = Client()
    client.force_login(revoker)
    client.post(reverse("sbsync:token-revoke", args=[record.pk]))

    rows = audit_rows(staff_client, object=str(record.pk))

    label = f"“scanner 3” ({record.token_key}…) for bob"
    assert len(rows) == 2
    assert re.search(
        rf"revoker API token {re.escape(label)} history changed revoked : ∅ → \d{{4}}-\d\d-\d\d \d\d:\d\d ",
        rows[0],
    )
    assert "revoked by : ∅ → revoker" in rows[0]
    assert re.search(rf"staff API token {re.escape(label)} history created 5 values", rows[1])
    assert "issued by : staff" in rows[1] and f"starts with : {record.token_key}" in rows[1]
    assert other.token_key not in " ".join(rows)
    export = staff_client.get(reverse("sbsync:audit-trails"), {"_export": "csv"}).content.decode()
    for page in (export, " ".join(audit_rows(staff_client))):
        assert token not in page and record.digest not in page and token[8:] not in page
    assert ServiceToken.objects.get(pk=record.pk).revoked_by == revoker


def test_revoking_a_token_already_gone_adds_nothing_to_the_trail(staff_client, staff_user, trio):
    record, _ = issue_service_token(user=trio.bob, name="gone", issued_by=staff_user, lifetime=DAYS_30)
    AuthToken.objects.filter(digest=record.digest).delete()

    staff_client.post(reverse("sbsync:token-revoke", args=[record.pk]))

    assert [h.history_type for h in record.history.all()] == ["+"]
    assert ServiceToken.objects.get(pk=record.pk).revoked_at is None
