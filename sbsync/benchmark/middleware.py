"""``X-Benchmark-Statements``: how many SQL statements the request ran through a cursor of the default
database (the benchmark's client adds them up per phase). Transaction control the driver does itself
(PostgreSQL's BEGIN, commits, rollbacks) is not counted; SQLite's ``BEGIN IMMEDIATE`` and savepoints are."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse

from sbsync.benchmark.workload import STATEMENTS_HEADER


def count_statements(
    get_response: Callable[[HttpRequest], HttpResponse],
) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        count = 0

        def counted(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counted):
            response = get_response(request)
        response[STATEMENTS_HEADER] = str(count)
        return response

    return middleware
