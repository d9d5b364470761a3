"""The admin cannot mint API tokens: knox's admin made never-expiring tokens for any user, superusers
included, for anyone holding knox.add_authtoken. Tokens come from logging in and the staff UI only."""

from __future__ import annotations

import pytest
from django.test import Client
from knox.models import AuthToken

from tests.factories import grant, make_user


@pytest.fixture
def token_admin(db) -> Client:
    user = grant(
        make_user(username="tokens", is_staff=True),
        "knox.add_authtoken",
        "knox.change_authtoken",
        "knox.view_authtoken",
        "knox.delete_authtoken",
    )
    client = Client()
    client.force_login(user)
    return client


def test_admin_cannot_add_a_token_for_a_superuser(token_admin):
    root = make_user(username="root", is_staff=True, is_superuser=True)

    page = token_admin.get("/admin/knox/authtoken/add/")
    post = token_admin.post("/admin/knox/authtoken/add/", {"user": root.pk, "expiry": ""})

    assert (page.status_code, post.status_code) == (403, 403)
    assert AuthToken.objects.count() == 0


def test_admin_lists_and_revokes_tokens(token_admin):
    instance, _ = AuthToken.objects.create(user=make_user(username="device"))

    listing = token_admin.get("/admin/knox/authtoken/")
    token_admin.post(f"/admin/knox/authtoken/{instance.pk}/delete/", {"post": "yes"})

    assert instance.token_key in listing.content.decode()
    assert AuthToken.objects.count() == 0


def test_admin_cannot_add_or_edit_service_token_rows(db):
    client = Client()
    client.force_login(make_user(username="root", is_staff=True, is_superuser=True))

    response = client.get("/admin/sbsync/servicetoken/add/")

    assert response.status_code == 403
