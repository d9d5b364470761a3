"""Every route of the staff UI: anonymous users go to the UI's login page, signed-in non-staff get 403,
staff get the page, and every POST is refused without a CSRF token."""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import get_resolver, reverse

from sbsync.models import DataFilter, Membership, ServiceToken, SyncLog
from tests.ui.conftest import HTMX, url_of

# Routes with the objects they need. (url name, args builder)
GET_ROUTES = [
    "dashboard",
    "permission-matrix",
    "data-filters",
    "data-filter-add",
    "data-filter-edit",
    "model-discovery",
    "model-discovery-preview",
    "sync-logs",
    "sync-log-detail",
    "metrics",
    "audit-trails",
    "organizations",
    "organization-detail",
    "tokens",
]
POST_ROUTES = [
    "permission-matrix",
    "permission-cell",
    "permission-bulk",
    "permission-undo",
    "data-filter-add",
    "data-filter-edit",
    "data-filter-delete",
    "model-discovery",
    "organizations",
    "organization-detail",
    "membership-add",
    "membership-edit",
    "membership-delete",
    "tokens",
    "token-revoke",
    "logout",
    "login",
]
PUBLIC = {"login"}


def test_routes_every_ui_url_is_covered():
    names = {p.name for p in get_resolver("sbsync.ui.urls").url_patterns}

    covered = set(GET_ROUTES) | set(POST_ROUTES)

    assert names == covered


@pytest.mark.parametrize("name", GET_ROUTES)
def test_get_anonymous_is_sent_to_the_ui_login_page(client, objects, name):
    url = url_of(name, objects)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('sbsync:login')}?next={url.replace(':', '%3A')}"


@pytest.mark.parametrize("name", sorted(set(POST_ROUTES) - PUBLIC - {"logout"}))
def test_post_anonymous_is_sent_to_login_and_changes_nothing(client, objects, name):
    before = (DataFilter.objects.count(), Membership.objects.count(), SyncLog.objects.count())

    response = client.post(url_of(name, objects), {"name": "x", "organization": "acme"})

    assert response.status_code == 302
    assert response["Location"].startswith(f"{reverse('sbsync:login')}?next=")
    assert (DataFilter.objects.count(), Membership.objects.count(), SyncLog.objects.count()) == before


def test_get_anonymous_htmx_request_redirects_the_whole_page(client):
    response = client.get(
        reverse("sbsync:sync-logs"),
        headers={**HTMX, "HX-Current-URL": "http://testserver/api/sync/config/logs/?page=2"},
    )

    assert response.status_code == 200
    assert (
        response["HX-Redirect"]
        == f"{reverse('sbsync:login')}?next=%2Fapi%2Fsync%2Fconfig%2Flogs%2F%3Fpage%3D2"
    )


@pytest.mark.parametrize("name", sorted(set(POST_ROUTES) - PUBLIC - {"logout"}))
def test_post_anonymous_htmx_write_is_a_401_that_keeps_the_page(client, objects, name):
    before = (DataFilter.objects.count(), Membership.objects.count(), SyncLog.objects.count())

    response = client.post(url_of(name, objects), {"name": "x", "organization": "acme"}, headers=HTMX)

    assert response.status_code == 401
    assert response.content.decode() == "Your session has expired: log in again, then retry."
    assert "HX-Redirect" not in response
    assert (DataFilter.objects.count(), Membership.objects.count(), SyncLog.objects.count()) == before


@pytest.mark.parametrize("name", GET_ROUTES)
def test_get_non_staff_member_is_forbidden(member_client, objects, name):
    response = member_client.get(url_of(name, objects))

    assert response.status_code == 403
    assert b'aria-label="Sections"' not in response.content


def test_forbidden_page_says_what_is_missing_and_offers_log_out_and_back(member_client):
    response = member_client.get(
        reverse("sbsync:dashboard"), headers={"Referer": "http://testserver/api/sync/config/logs/"}
    )

    html = response.content.decode()
    assert response.status_code == 403
    assert "this page needs <strong>a staff account</strong>" in html
    assert f'action="{reverse("sbsync:logout")}"' in html
    assert '<a class="button" href="http://testserver/api/sync/config/logs/">Go back</a>' in html


def test_forbidden_page_back_link_never_leaves_the_site(member_client):
    response = member_client.get(reverse("sbsync:dashboard"), headers={"Referer": "https://evil.example/"})

    assert '<a class="button" href="/">Go back</a>' in response.content.decode()


@pytest.mark.parametrize("name", GET_ROUTES)
def test_every_page_sends_the_strict_content_security_policy(staff_client, objects, name):
    response = staff_client.get(url_of(name, objects))

    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["default-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"


@pytest.mark.parametrize("name", sorted(set(POST_ROUTES) - PUBLIC - {"logout"}))
def test_post_non_staff_member_is_forbidden_and_changes_nothing(member_client, objects, name):
    before = (DataFilter.objects.count(), Membership.objects.count(), ServiceToken.objects.count())

    response = member_client.post(url_of(name, objects), {"name": "x", "organization": "acme"})

    assert response.status_code == 403
    assert (DataFilter.objects.count(), Membership.objects.count(), ServiceToken.objects.count()) == before


@pytest.mark.parametrize("name", GET_ROUTES)
def test_get_staff_sees_the_page_in_the_layout(staff_client, objects, name):
    response = staff_client.get(url_of(name, objects))

    ids = re.findall(r'\sid="([^"]+)"', response.content.decode())
    assert response.status_code == 200
    assert b'aria-label="Sections"' in response.content
    assert sorted(i for i in set(ids) if ids.count(i) > 1) == []


PARTIALS = {
    "dashboard": "dashboard-live",
    "permission-matrix": "permission-matrix",
    "data-filters": "data-filters-table",
    "data-filter-add": "filter-form",
    "data-filter-edit": "filter-form",
    "model-discovery": "discovery-preview",
    "model-discovery-preview": "discovery-preview",
    "sync-logs": "sync-logs-table",
    "metrics": "metrics-results",
    "audit-trails": "audit-table",
    "organizations": "organizations-table",
    "tokens": "tokens-table",
}


@pytest.mark.parametrize(("name", "target"), PARTIALS.items())
def test_get_htmx_request_gets_only_the_region(staff_client, objects, name, target):
    response = staff_client.get(url_of(name, objects), headers=HTMX)

    html = response.content.decode()
    assert re.match(rf'\s*<[a-z]+ id="{target}"', html)
    assert "<html" not in html and 'aria-label="Sections"' not in html
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize("name", sorted(set(GET_ROUTES) - set(PARTIALS)))
def test_get_htmx_request_to_a_page_without_regions_gets_the_page(staff_client, objects, name):
    response = staff_client.get(url_of(name, objects), headers=HTMX)

    assert b"<html" in response.content


@pytest.mark.parametrize("name", POST_ROUTES)
def test_post_without_csrf_token_is_refused(csrf_client, objects, name):
    before = (DataFilter.objects.count(), Membership.objects.count(), ServiceToken.objects.count())

    response = csrf_client.post(
        url_of(name, objects), {"name": "x", "organization": "acme", "username": "staff"}
    )

    assert response.status_code == 403
    assert b"CSRF" in response.content
    assert (DataFilter.objects.count(), Membership.objects.count(), ServiceToken.objects.count()) == before


def test_get_unknown_log_code_is_404(staff_client):
    response = staff_client.get(reverse("sbsync:sync-log-detail", args=[uuid.uuid4()]))

    assert response.status_code == 404
