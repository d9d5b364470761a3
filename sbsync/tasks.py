"""Huey tasks: thin wrappers that call one function of sbsync/sync/ and log what it did.

``manage.py run_huey`` loads this module.
"""

from __future__ import annotations

import logging

from huey.contrib.djhuey import on_commit_task

from sbsync.sync.jobs import run_push_job

logger = logging.getLogger("sbsync.tasks")


# Enqueued when the request's transaction commits: the consumer must find the SyncJob row.
@on_commit_task()
def bulk_sync_operation(*, job_id: int) -> str | None:
    """Run an async push job (``"async": true``)."""
    status = run_push_job(job_id=job_id)
    if status is None:
        logger.info("bulk_sync_operation: job %s is gone or already taken", job_id)
    else:
        logger.info("bulk_sync_operation: job %s %s", job_id, status)
    return status
