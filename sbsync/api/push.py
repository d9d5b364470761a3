"""Push (sbsync/docs/protocol.md section 4) and async push jobs: find the caller's organization, parse
the envelope, run the push (sbsync/sync/push/serve.py) or queue it, answer. Refusals are ProtocolErrors
the API's exception handler answers."""

from __future__ import annotations

import logging

from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from sbsync.api.context import request_access
from sbsync.api.decorators import sync_endpoint
from sbsync.api.errors import error_response
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
from sbsync.enums import Operation
from sbsync.errors import ProtocolError
from sbsync.sync.push.envelope import parse_envelope
from sbsync.sync.push.jobs import create_push_job, describe_job, job_for_user
from sbsync.sync.push.serve import serve_push
from sbsync.sync.refusals import pushed_models, pushed_record_count, refusals_logged
from sbsync.tasks import bulk_sync_operation

logger = logging.getLogger("sbsync.api")
QUEUE_RETRY_AFTER = 10


@extend_schema(
    summary="Push records",
    description=(
        "Create, update and delete rows of any model your role may push. Each record gets its own result; "
        "see sbsync/docs/protocol.md section 4 and sbsync/docs/push.md."
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
    # The organization first, as for a pull: who is asking before what is asked (protocol.md section 3).
    # A refusal here is logged like one of the engine's (sbsync/sync/refusals.py).
    with refusals_logged(
        user=request.user, operation=Operation.PUSH, models_of=pushed_models, records_of=pushed_record_count
    ) as read:
        read.body = request.data
        access = request_access(request, read.body)
        read.organization = access.organization
        envelope = parse_envelope(read.body)
        key = envelope.idempotency_key(request.headers.get("Idempotency-Key"))
    if envelope.run_async:
        job = create_push_job(access=access, envelope=envelope, idempotency_key=key)
        try:
            bulk_sync_operation(job_id=job.pk)  # enqueued once the job row is committed
        except Exception as exc:  # whatever the queue's storage raises (Redis down, SQLite locked)
            # No job is left that nothing will run: the client is told to retry or push synchronously.
            job.delete()
            logger.warning("Async push refused, the task queue is unavailable: %s", exc)
            return error_response(
                503,
                "queue_unavailable",
                "The task queue is unavailable: push without async, or retry later.",
                headers={"Retry-After": str(QUEUE_RETRY_AFTER)},
            )
        url = request.build_absolute_uri(reverse("sbsync:push-job", kwargs={"code": job.code}))
        return Response({"job": str(job.code), "status_url": url}, status=202)
    answer = serve_push(access=access, envelope=envelope, idempotency_key=key)
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
        raise ProtocolError(404, "not_found", "No such job.")
    return Response(describe_job(job))
