from __future__ import annotations

from django.urls import reverse

from tests.factories import PASSWORD, make_user

LOGIN = reverse("sbsync:login")


def test_login_page_is_the_ui_own(client, db):
    response = client.get(LOGIN)

    assert response.status_code == 200
    assert b"The configuration pages are for staff accounts." in response.content


def test_staff_login_goes_to_the_dashboard(client, staff_user):
    response = client.post(LOGIN, {"username": "staff", "password": PASSWORD})

    assert response["Location"] == reverse("sbsync:dashboard")
    assert client.get(reverse("sbsync:dashboard")).status_code == 200


def test_staff_login_returns_to_the_page_asked_for(client, staff_user):
    response = client.post(
        LOGIN, {"username": "staff", "password": PASSWORD, "next": "/api/sync/config/logs/?status=ERROR"}
    )

    assert response["Location"] == "/api/sync/config/logs/?status=ERROR"


def test_login_refuses_to_send_anywhere_else(client, staff_user):
    response = client.post(
        LOGIN, {"username": "staff", "password": PASSWORD, "next": "https://evil.example/"}
    )

    assert response["Location"] == reverse("sbsync:dashboard")


def test_non_staff_login_is_refused_and_starts_no_session(client, trio):
    response = client.post(LOGIN, {"username": "alice", "password": PASSWORD})

    assert response.status_code == 200
    assert "Enter the username and password of a staff account." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_wrong_password_is_refused(client, staff_user):
    response = client.post(LOGIN, {"username": "staff", "password": "wrong"})

    assert "Enter the username and password of a staff account." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_ends_the_session(staff_client):
    response = staff_client.post(reverse("sbsync:logout"))

    assert response["Location"] == LOGIN
    assert staff_client.get(reverse("sbsync:dashboard"))["Location"].startswith(LOGIN)


def test_logout_by_get_is_not_allowed(staff_client):
    response = staff_client.get(reverse("sbsync:logout"))

    assert response.status_code == 405
    assert staff_client.get(reverse("sbsync:dashboard")).status_code == 200


def test_inactive_staff_cannot_log_in(client, db):
    make_user(username="gone", is_staff=True, is_active=False)

    response = client.post(LOGIN, {"username": "gone", "password": PASSWORD})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
