"""Clients of the staff UI: a staff member, a signed-in non-staff member, and a staff client that
enforces CSRF like a browser. Also the htmx request header and the rows of a CSV answer."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from sbsync.models import ServiceToken
from tests.factories import (
    make_filter,
    make_group,
    make_membership,
    make_organization,
    make_sync_log,
    make_user,
)

HTMX = {"HX-Request": "true"}


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.fixture
def staff_client(staff_user) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def member_client(db) -> Client:
    """A signed-in user who is not staff but is an active member (owner) of an organization."""
    user = make_user(username="member", is_staff=False)
    make_membership(user=user, organization=make_organization(slug="members-org"), group=make_group("Owners"))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def csrf_client(staff_user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    return client


@pytest.fixture
def objects(db):
    """One object of each kind the UI routes take in their URLs, as url_of's arguments by route name."""
    organization = make_organization(slug="acme")
    membership = make_membership(organization=organization)
    data_filter = make_filter(organization=organization)
    log = make_sync_log(organization=organization)
    token = ServiceToken.objects.create(digest="d" * 128, token_key="abc", name="scanner", user=make_user())
    return {
        "data-filter-edit": [data_filter.pk],
        "data-filter-delete": [data_filter.pk],
        "sync-log-detail": [log.code],
        "organization-detail": [organization.slug],
        "membership-add": [organization.slug],
        "membership-edit": [organization.slug, membership.pk],
        "membership-delete": [organization.slug, membership.pk],
        "token-revoke": [token.pk],
    }


def url_of(name: str, objects: dict) -> str:
    return reverse(f"sbsync:{name}", args=objects.get(name, []))
