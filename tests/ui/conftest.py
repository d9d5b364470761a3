"""Clients of the staff UI: a staff member, a signed-in non-staff member, and a staff client that
enforces CSRF like a browser. Also the htmx request header and the rows of a CSV answer."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from tests.factories import make_group, make_membership, make_organization, make_user

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
