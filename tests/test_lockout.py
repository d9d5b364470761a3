"""One lockout policy (django-axes, sbsync.lockout) covers the API login, the staff UI's login and the
admin's, per account and per client address: failures anywhere lock out everywhere."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from knox.models import AuthToken

from tests.factories import PASSWORD, make_user

API_LOGIN = "/api/sync/auth/token/"
UI_LOGIN = reverse("sbsync:login")
ADMIN_LOGIN = "/admin/login/"
LIMIT = 3


@pytest.fixture
def staff(db, settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    return make_user(username="admin", is_staff=True, is_superuser=True)


def fail_on(path: str, client: Client) -> int:
    return client.post(path, {"username": "admin", "password": "wrong"}).status_code


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("failing_on", [API_LOGIN, UI_LOGIN, ADMIN_LOGIN])
def test_failures_on_any_login_lock_every_login(staff, failing_on):
    for _ in range(LIMIT):
        fail_on(failing_on, Client(REMOTE_ADDR="10.9.0.1"))

    api = Client(REMOTE_ADDR="10.9.0.2").post(API_LOGIN, {"username": "admin", "password": PASSWORD})
    ui, admin = Client(REMOTE_ADDR="10.9.0.3"), Client(REMOTE_ADDR="10.9.0.4")
    ui_answer = ui.post(UI_LOGIN, {"username": "admin", "password": PASSWORD})
    admin_answer = admin.post(ADMIN_LOGIN, {"username": "admin", "password": PASSWORD})

    assert (api.status_code, ui_answer.status_code, admin_answer.status_code) == (429, 429, 429)
    assert (logged_in(ui), logged_in(admin), AuthToken.objects.count()) == (False, False, 0)


def test_ui_login_says_why_with_retry_after(staff):
    for _ in range(LIMIT):
        fail_on(UI_LOGIN, Client())

    response = Client().post(UI_LOGIN, {"username": "admin", "password": PASSWORD})

    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assert "Too many failed logins: try again in 15 minutes." in response.content.decode()
    assert b'name="username"' in response.content


def test_admin_login_locked_out_is_a_plain_429(staff):
    for _ in range(LIMIT):
        fail_on(ADMIN_LOGIN, Client())

    response = Client().post(ADMIN_LOGIN, {"username": "admin", "password": PASSWORD})

    assert (response.status_code, response["Content-Type"]) == (429, "text/plain; charset=utf-8")
    assert response.content.decode() == "Too many failed logins: try again in 15 minutes."


def test_the_attempt_that_reaches_the_limit_is_an_ordinary_failure(staff):
    statuses = [fail_on(UI_LOGIN, Client()) for _ in range(LIMIT + 1)]

    assert statuses == [200] * LIMIT + [429]


def test_client_address_is_locked_out_across_usernames(staff):
    for n in range(LIMIT):
        Client(REMOTE_ADDR="10.9.9.9").post(UI_LOGIN, {"username": f"guess{n}", "password": "x"})

    same_address = Client(REMOTE_ADDR="10.9.9.9")
    other_address = Client(REMOTE_ADDR="10.9.9.10")
    same_address.post(UI_LOGIN, {"username": "admin", "password": PASSWORD})
    other_address.post(UI_LOGIN, {"username": "admin", "password": PASSWORD})

    assert (logged_in(same_address), logged_in(other_address)) == (False, True)
