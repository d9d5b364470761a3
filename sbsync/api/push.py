"""Push (PROTOCOL.md section 4) and async push jobs: parse the envelope, find the caller's organization,
run the push (sbsync/sync/submit.py) or queue it, answer."""

from __future__ import annotations

import logging

from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from sbsync.api.context import request_access
from sbsync.api.decorators import sync_endpoint
from sbsync.api.errors import ApiError
from sbsync.api.push_schema import (
    IDEMPOTENCY_HEADER,
    ORGANIZATION_HEADER,
    PushErrorResponse,
    PushJob,
    PushJobAccepted,
    PushRequest,
    PushResponse,
)
from sbsync.api.schema import ErrorResponse
from sbsync.sync.envelope import EnvelopeError, PushEnvelope, parse_envelope
from sbsync.sync.jobs import create_push_job, describe_job, job_for_user
from sbsync.sync.submit import submit_push
from sbsync.tasks import bulk_sync_operation

logger = logging.getLogger("sbsync.api")
QUEUE_RETRY_AFTER = 10


def _envelope(request: Request) -> tuple[PushEnvelope, str | None]:
    try:
        envelope = parse_envelope(request.data)
        return envelope, envelope.idempotency_key(request.headers.get("Idempotency-Key"))
    except EnvelopeError as exc:
        raise ApiError(exc.status_code, exc.code, exc.detail, exc.errors) from None


@extend_schema(
    summary="Push records",
    description=(
        "Create, update and delete rows of any model your role may push. Each record gets its own result; "
        "see PROTOCOL.md section 4 and sbsync/docs/push.md."
    ),
    parameters=[ORGANIZATION_HEADER, IDEMPOTENCY_HEADER],
    request=PushRequest,
    responses={
        200: PushResponse,
        202: PushJobAccepted,
        400: PushErrorResponse,
        401: ErrorResponse,
        403: PushErrorResponse,
        409: PushErrorResponse,
        413: ErrorResponse,
        415: ErrorResponse,
        429: ErrorResponse,
        503: ErrorResponse,
    },
    examples=[
        OpenApiExample(
            "Create a customer",
            value={
                "data": [{"_model": "shop.Customer", "name": "John Doe", "age": 45, "department": "SALES"}]
            },
            request_only=True,
        )
    ],
    tags=["sync"],
)
@sync_endpoint(["POST"])
def push(request: Request) -> Response:
    envelope, key = _envelope(request)
    access = request_access(request, request.data)
    if envelope.run_async:
        job = create_push_job(access=access, envelope=envelope, idempotency_key=key)
        try:
            bulk_sync_operation(job_id=job.pk)  # enqueued once the job row is committed
        except Exception as exc:  # whatever the queue's storage raises (Redis down, SQLite locked)
            # No job is left that nothing will run: the client is told to retry or push synchronously.
            job.delete()
            logger.warning("Async push refused, the task queue is unavailable: %s", exc)
            raise ApiError(
                503,
                "queue_unavailable",
                "The task queue is unavailable: push without async, or retry later.",
                headers={"Retry-After": str(QUEUE_RETRY_AFTER)},
            ) from None
        url = request.build_absolute_uri(reverse("sbsync:push-job", kwargs={"code": job.code}))
        return Response({"job": str(job.code), "status_url": url}, status=202)
    answer = submit_push(access=access, envelope=envelope, idempotency_key=key)
    return Response(answer.body, status=answer.status_code)


@extend_schema(
    summary="State of an async push job",
    responses={200: PushJob, 401: ErrorResponse, 404: ErrorResponse, 429: ErrorResponse},
    tags=["sync"],
)
@sync_endpoint(["GET"])
def job_status(request: Request, code: str) -> Response:
    job = job_for_user(request.user, code)
    if job is None:
        raise ApiError(404, "not_found", "No such job.")
    return Response(describe_job(job))
