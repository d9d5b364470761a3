from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.db import connection
from django.utils import timezone
from huey.contrib.djhuey import HUEY
from huey.storage import RedisStorage

from sbsync.demo.shop.models import Customer
from sbsync.enums import JobStatus
from sbsync.models import SyncJob
from sbsync.sync.push.jobs import MAX_ATTEMPTS, recover_interrupted_jobs, run_push_job
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


def test_a_job_run_again_after_its_push_committed_replays_the_answer_and_applies_nothing(
    trio, api, django_capture_on_commit_callbacks
):
    """What a consumer killed between the push's commit and the job's ``done`` leaves: the job is run
    again under its own idempotency key (``job:<code>``, no batch_id given)."""
    with django_capture_on_commit_callbacks(execute=True):
        accepted = queue(api(trio.alice), [{"_model": "shop.Customer", "name": "once"}])
    job = SyncJob.objects.get(code=accepted["job"])
    first = job.result
    SyncJob.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED)

    status = run_push_job(job_id=job.pk)

    job.refresh_from_db()
    assert (status, job.status, job.attempts) == ("done", "done", 2)
    assert job.result["results"] == first["results"]
    assert Customer.objects.count() == 1


def test_interrupted_jobs_are_queued_again_then_failed_with_a_reason_after_three_runs(trio):
    boot = timezone.now()
    earlier = boot - timedelta(minutes=1)

    def job(status, attempts, started_at):
        return SyncJob.objects.create(
            user=trio.alice,
            organization=trio.acme,
            payload={"data": []},
            status=status,
            attempts=attempts,
            started_at=started_at,
        )

    cut_off = job(JobStatus.RUNNING, 1, earlier)
    worn_out = job(JobStatus.RUNNING, MAX_ATTEMPTS, earlier)
    current = job(JobStatus.RUNNING, 1, boot + timedelta(seconds=1))  # this consumer's own
    finished = job(JobStatus.DONE, 1, earlier)

    requeued = recover_interrupted_jobs(started_before=boot)
    again = recover_interrupted_jobs(started_before=boot)

    states = {j.pk: (j.status, j.error) for j in SyncJob.objects.all()}
    assert (requeued, again) == ([cut_off.pk], [])
    assert states[cut_off.pk] == ("queued", "")
    assert states[worn_out.pk] == (
        "failed",
        "The task consumer stopped while running this push 3 times; it was not applied. Push it again.",
    )
    assert states[current.pk] == ("running", "")
    assert states[finished.pk] == ("done", "")


def test_async_push_with_the_queue_unreachable_is_503_and_leaves_no_job(
    transactional_db, trio, api, monkeypatch
):
    """Outside a test transaction, so the job is enqueued at once, as in a request in autocommit."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.setattr(HUEY, "immediate", False)
    monkeypatch.setattr(
        HUEY, "storage", RedisStorage(name="unreachable", url=f"redis://127.0.0.1:{closed_port}/0")
    )

    response = api(trio.alice).post(PUSH, {"async": True, "data": [{"_model": "shop.Customer", "name": "x"}]})

    assert response.status_code == 503
    assert response.json() == {
        "error": "queue_unavailable",
        "detail": "The task queue is unavailable: push without async, or retry later.",
    }
    assert response.headers["Retry-After"] == "10"
    assert (SyncJob.objects.count(), Customer.objects.count()) == (0, 0)
