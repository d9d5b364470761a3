from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from django.db import connection
from huey.contrib.djhuey import HUEY
from huey.storage import RedisStorage

from sbsync.demo.shop.models import Customer
from sbsync.enums import JobStatus
from sbsync.models import SyncJob
from sbsync.sync.push.jobs import run_push_job
from tests.api.conftest import token_for

PUSH = "push/"
ROOT = Path(__file__).resolve().parents[2]
NOT_FOUND = {"error": "not_found", "detail": "No such job."}


def queue(client, records, **options):
    response = client.post(PUSH, {"async": True, "data": records, **options})
    assert response.status_code == 202
    return response.json()


def job_path(accepted):
    return accepted["status_url"].split("/api/sync/", 1)[1]


def test_async_push_answers_202_and_the_job_is_queued_until_the_consumer_runs_it(
    trio, api, django_capture_on_commit_callbacks
):
    client = api(trio.alice)

    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        accepted = queue(client, [{"_model": "shop.Customer", "name": "Later"}])
    queued = client.get(job_path(accepted)).json()
    for callback in enqueued:
        callback()
    done = client.get(job_path(accepted)).json()

    assert set(accepted) == {"job", "status_url"}
    assert (queued["status"], queued["started_at"], "result" not in queued) == ("queued", None, True)
    assert (done["status"], done["status_code"]) == ("done", 200)
    assert done["result"]["results"][0]["status"] == "created"
    assert done["finished_at"] is not None
    assert Customer.objects.get().name == "Later"


def test_async_job_keeps_a_refused_push_answer(trio, api, django_capture_on_commit_callbacks):
    client = api(trio.alice)

    with django_capture_on_commit_callbacks(execute=True):
        accepted = queue(client, [{"_model": "shop.Customer", "name": ""}])
    done = client.get(job_path(accepted)).json()

    assert (done["status"], done["status_code"], done["result"]["error"]) == ("done", 400, "validation_error")
    assert Customer.objects.count() == 0


def test_async_job_of_a_member_who_left_answers_403(trio, api, django_capture_on_commit_callbacks):
    client = api(trio.alice)
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        accepted = queue(client, [{"_model": "shop.Customer", "name": "x"}])
    trio.alice.sbsync_memberships.update(is_active=False)

    for callback in enqueued:
        callback()

    done = client.get(job_path(accepted)).json()
    assert (done["status"], done["status_code"], done["result"]["error"]) == ("done", 403, "not_a_member")
    assert Customer.objects.count() == 0


def test_async_job_that_cannot_run_is_failed_without_details(
    trio, api, settings, django_capture_on_commit_callbacks
):
    client = api(trio.alice)
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        accepted = queue(client, [{"_model": "shop.Customer", "name": "x"}])
    settings.SBSYNC = {**settings.SBSYNC, "MAX_PUSH_RECORDS": "a misconfigured value"}

    for callback in enqueued:
        callback()

    failed = client.get(job_path(accepted)).json()
    assert (failed["status"], failed["error"]) == (
        "failed",
        "The push could not be run; the server log has the details.",
    )
    assert "status_code" not in failed and "result" not in failed


def test_async_job_runs_once_even_if_delivered_twice(trio, api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        accepted = queue(api(trio.alice), [{"_model": "shop.Customer", "name": "once"}])
    job = SyncJob.objects.get(code=accepted["job"])

    again = run_push_job(job_id=job.pk)

    assert again is None
    assert Customer.objects.count() == 1


def test_async_job_with_a_batch_id_is_idempotent_with_the_synchronous_push(
    trio, api, django_capture_on_commit_callbacks
):
    client = api(trio.alice)
    body = [{"_model": "shop.Customer", "name": "once"}]
    first = client.post(PUSH, {"batch_id": "b-7", "data": body})

    with django_capture_on_commit_callbacks(execute=True):
        accepted = queue(client, body, batch_id="b-7")

    assert client.get(job_path(accepted)).json()["result"] == first.json()
    assert Customer.objects.count() == 1


def test_jobs_of_other_users_unknown_and_malformed_ids_are_the_same_404(
    trio, api, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        accepted = queue(api(trio.alice), [{"_model": "shop.Customer", "name": "private"}])
    other = api(trio.charlie)

    responses = [
        other.get(job_path(accepted)),
        other.get(f"jobs/{uuid.uuid4()}/"),
        other.get("jobs/not-a-uuid/"),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404]
    assert [r.json() for r in responses] == [NOT_FOUND] * 3


def test_job_status_needs_a_token(trio, api):
    response = api().get(f"jobs/{uuid.uuid4()}/")

    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"


@pytest.fixture
def redis_queue(monkeypatch, settings):
    """This process enqueues into a Redis queue of its own, as a deployment does (tests run Huey in
    immediate mode otherwise)."""
    url = settings.TEST_REDIS_URL
    name = f"sbsync-test-{uuid.uuid4().hex[:12]}"
    monkeypatch.setattr(HUEY, "immediate", False)
    monkeypatch.setattr(HUEY, "storage", RedisStorage(name=name, url=url))
    yield name, url
    HUEY.storage.flush_all()


@pytest.fixture
def start_consumer(live_server, redis_queue):
    """Start ``manage.py run_huey`` on the test database and the test's queue; stop it afterwards."""
    name, url = redis_queue
    processes = []

    def start():
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.consumer_settings",
            "SBSYNC_CONSUMER_DB_NAME": connection.settings_dict["NAME"],
            "SBSYNC_CONSUMER_HUEY_NAME": name,
            "SBSYNC_TEST_REDIS_URL": url,
        }
        process = subprocess.Popen(
            [sys.executable, "manage.py", "run_huey", "--workers", "1"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_run_huey_takes_an_async_push_from_queued_to_done_over_http(trio, live_server, start_consumer):
    headers = {"Authorization": f"Bearer {token_for(trio.alice)}"}
    body = {"async": True, "data": [{"_model": "shop.Customer", "name": "From the queue"}]}

    accepted = requests.post(f"{live_server.url}/api/sync/push/", json=body, headers=headers, timeout=10)
    queued = requests.get(accepted.json()["status_url"], headers=headers, timeout=10).json()
    consumer = start_consumer()
    seen, deadline = [queued["status"]], time.monotonic() + 60
    while (
        seen[-1] not in (JobStatus.DONE, JobStatus.FAILED)
        and time.monotonic() < deadline
        and consumer.poll() is None
    ):
        time.sleep(0.2)
        state = requests.get(accepted.json()["status_url"], headers=headers, timeout=10).json()
        if state["status"] != seen[-1]:
            seen.append(state["status"])

    assert accepted.status_code == 202
    assert seen[0] == "queued" and seen[-1] == "done", (
        consumer.stdout.read().decode() if consumer.poll() is not None else seen
    )
    assert state["result"]["results"][0]["status"] == "created"
    assert Customer.objects.get().name == "From the queue"
