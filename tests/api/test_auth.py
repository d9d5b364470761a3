from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from knox.models import AuthToken

from sbsync.monitoring.maintenance import purge_expired
from tests.api.conftest import token_for
from tests.factories import PASSWORD, make_membership, make_user

LOGIN = "/api/sync/auth/token/"


@pytest.fixture
def member(db):
    membership = make_membership(user=make_user(username="john_manager", email="john@acme.test"))
    return membership


def test_login_with_json_returns_token_expiry_user_and_organizations(member):
    response = Client().post(
        LOGIN, {"username": "john_manager", "password": PASSWORD}, content_type="application/json"
    )

    body = response.json()
    assert response.status_code == 200
    assert body["user"] == {"id": member.user.pk, "username": "john_manager", "email": "john@acme.test"}
    assert body["organizations"] == [
        {
            "id": member.organization.pk,
            "name": member.organization.name,
            "slug": member.organization.slug,
            "group": member.group.name,
        }
    ]
    assert AuthToken.objects.filter(user=member.user).count() == 1
    expiry = AuthToken.objects.get(user=member.user).expiry
    assert timedelta(days=6, hours=23) < expiry - timezone.now() <= timedelta(days=7)


def test_login_with_form_post_works_like_the_seed_client(member):
    response = Client().post(LOGIN, {"username": "john_manager", "password": PASSWORD})

    assert response.status_code == 200
    assert len(response.json()["token"]) >= 64


def test_login_token_authenticates_with_bearer_and_token_schemes(member):
    token = Client().post(LOGIN, {"username": "john_manager", "password": PASSWORD}).json()["token"]

    bearer = Client().post("/api/sync/auth/logout-all/", headers={"Authorization": f"Token {token}"})

    assert bearer.status_code == 204
    assert AuthToken.objects.filter(user=member.user).count() == 0


def test_login_with_wrong_password_is_400_and_issues_nothing(member):
    response = Client().post(
        LOGIN, {"username": "john_manager", "password": "wrong"}, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_credentials",
        "detail": "Unable to log in with the username and password given.",
    }
    assert AuthToken.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [{"username": "john_manager"}, {"password": "x"}, {"username": 5, "password": "x"}, [1, 2], '"text"'],
)
def test_login_with_malformed_body_is_a_validation_error(member, body):
    response = Client().post(LOGIN, body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"] == "validation_error"


def test_login_with_malformed_json_is_400(member):
    response = Client().post(LOGIN, b'{"username": ', content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"] == "malformed_json"


def test_login_with_unsupported_content_type_is_415(member):
    response = Client().post(LOGIN, b"<xml/>", content_type="application/xml")

    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"


def test_failed_logins_lock_the_account_out_with_retry_after(member, settings):
    settings.AXES_FAILURE_LIMIT = 3
    answers = [
        Client(REMOTE_ADDR=f"10.0.0.{n}").post(LOGIN, {"username": "john_manager", "password": "wrong"})
        for n in range(3)
    ]

    blocked = Client(REMOTE_ADDR="10.0.0.99").post(LOGIN, {"username": "john_manager", "password": PASSWORD})

    assert [a.json()["error"] for a in answers] == ["invalid_credentials"] * 3
    assert blocked.status_code == 429
    assert blocked.json() == {
        "error": "throttled",
        "detail": "Too many failed logins: try again in 15 minutes.",
    }
    assert blocked["Retry-After"] == "900"
    assert AuthToken.objects.count() == 0


def test_failed_logins_lock_the_client_address_out(member, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for n in range(3):
        Client(REMOTE_ADDR="10.1.1.1").post(LOGIN, {"username": f"guess{n}", "password": "wrong"})

    blocked = Client(REMOTE_ADDR="10.1.1.1").post(LOGIN, {"username": "john_manager", "password": PASSWORD})
    elsewhere = Client(REMOTE_ADDR="10.1.1.2").post(LOGIN, {"username": "john_manager", "password": PASSWORD})

    assert blocked.status_code == 429
    assert elsewhere.status_code == 200


def test_successful_logins_do_not_count_toward_the_lockout(member, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(5):
        assert Client().post(LOGIN, {"username": "john_manager", "password": PASSWORD}).status_code == 200

    Client().post(LOGIN, {"username": "john_manager", "password": "wrong"})
    Client().post(LOGIN, {"username": "john_manager", "password": "wrong"})
    response = Client().post(LOGIN, {"username": "john_manager", "password": PASSWORD})

    assert response.status_code == 200
    member.user.refresh_from_db()
    assert member.user.last_login is not None


def test_logout_revokes_only_the_presented_token(member):
    kept, revoked = token_for(member.user), token_for(member.user)

    response = Client().post("/api/sync/auth/logout/", headers={"Authorization": f"Bearer {revoked}"})
    again = Client().post("/api/sync/auth/logout/", headers={"Authorization": f"Bearer {revoked}"})
    still = Client().post("/api/sync/auth/logout/", headers={"Authorization": f"Bearer {kept}"})

    assert response.status_code == 204
    assert again.status_code == 401
    assert still.status_code == 204


def test_logout_all_revokes_every_token_of_the_user_and_no_other_users(trio):
    first, second = token_for(trio.alice), token_for(trio.alice)
    bobs = token_for(trio.bob)

    response = Client().post("/api/sync/auth/logout-all/", headers={"Authorization": f"Bearer {first}"})

    assert response.status_code == 204
    assert AuthToken.objects.filter(user=trio.alice).count() == 0
    revoked = Client().post("/api/sync/auth/logout/", headers={"Authorization": f"Bearer {second}"})
    assert revoked.status_code == 401
    kept = Client().post("/api/sync/auth/logout/", headers={"Authorization": f"Bearer {bobs}"})
    assert kept.status_code == 204


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "not_authenticated"),
        ("Bearer not-a-real-token", "authentication_failed"),
        ("Bearer", "authentication_failed"),
        ("Bearer a b", "authentication_failed"),
        ("Bearer \xff\xfe", "authentication_failed"),
    ],
)
def test_missing_or_unknown_token_is_401_with_bearer_challenge(db, header, code):
    headers = {"Authorization": header} if header else {}

    response = Client().post("/api/sync/auth/logout/", headers=headers)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"] == code


def test_expired_token_is_401_and_deleted(member):
    instance, token = AuthToken.objects.create(user=member.user, expiry=timedelta(seconds=-1))

    response = Client().post("/api/sync/auth/logout/", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert not AuthToken.objects.filter(digest=instance.digest).exists()


def test_a_request_reads_only_the_presented_token_and_the_purge_deletes_the_users_expired_ones(member):
    expired, _ = AuthToken.objects.create(user=member.user, expiry=timedelta(seconds=-1))
    token = token_for(member.user)

    with CaptureQueriesContext(connection) as queries:
        response = Client().get("/api/sync/models/", headers={"Authorization": f"Bearer {token}"})
    purged = purge_expired(now=timezone.now())

    assert response.status_code == 200
    token_reads = [q["sql"] for q in queries.captured_queries if '"knox_authtoken"' in q["sql"]]
    assert len(token_reads) == 1 and "token_key" in token_reads[0]
    assert purged.tokens == 1 and not AuthToken.objects.filter(digest=expired.digest).exists()


def test_a_revoked_token_is_refused_at_its_next_request(member, api):
    client = api(member.user)
    assert client.get("models/").status_code == 200

    AuthToken.objects.filter(user=member.user).delete()

    assert client.get("models/").status_code == 401


def test_token_of_inactive_user_is_401(member):
    token = token_for(member.user)
    member.user.is_active = False
    member.user.save()

    response = Client().post("/api/sync/auth/logout/", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.json()["detail"] == "User inactive or deleted."


def test_unknown_api_path_is_json_404(db):
    response = Client().get("/api/sync/no-such-endpoint/")

    assert response.status_code == 404
    assert response.json() == {
        "error": "not_found",
        "detail": "No API endpoint at /api/sync/no-such-endpoint/.",
    }


def test_wrong_method_is_json_405(db):
    response = Client().get(LOGIN)

    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


def test_body_over_the_limit_is_413_before_parsing(member, settings):
    settings.SBSYNC = {**settings.SBSYNC, "MAX_BODY_BYTES": 100}

    response = Client().post(
        LOGIN, {"username": "john_manager", "password": "x" * 200}, content_type="application/json"
    )

    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"


@pytest.mark.parametrize("field", ["username", "password"])
def test_login_with_a_nul_character_is_a_validation_error(member, field):
    credentials = {"username": "john_manager", "password": PASSWORD, field: "john\x00"}

    response = Client().post(LOGIN, credentials, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["errors"] == {field: ["NUL character."]}


def test_a_content_length_of_non_ascii_digits_is_not_a_server_error(member):
    response = Client().post(LOGIN, b"{}", content_type="application/json", CONTENT_LENGTH="²")

    assert response.status_code == 400
    assert response.json()["error"] in ("validation_error", "malformed_json")
