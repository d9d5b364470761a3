"""The one recipe of every list page (sbsync/docs/ui.md): a FilterSet narrows a queryset, a Table sorts
and pages it 50 rows at a time, and ``_export=csv`` downloads every filtered row through the same table.

Invalid filter input gives an empty list (django-filter's strict mode), never an error page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import django_filters
import django_tables2 as tables
from django.http import HttpResponse
from django_tables2 import RequestConfig
from django_tables2.export import TableExport

from sbsync.ui.http import StaffRequest

PER_PAGE = 50
EXPORT_FORMATS = ("csv",)


@dataclass
class ListPage:
    filterset: django_filters.FilterSet
    table: tables.Table
    rows: Any
    export: HttpResponse | None

    @property
    def context(self) -> dict[str, Any]:
        return {"filter": self.filterset, "table": self.table}


def filtered(filterset: django_filters.FilterSet) -> Any:
    """The filterset's rows, or none when its input is invalid."""
    if filterset.is_valid():
        return filterset.qs
    queryset = filterset.queryset
    assert queryset is not None  # every list view passes its queryset
    return queryset.none()


def list_page(
    request: StaffRequest,
    *,
    filterset: django_filters.FilterSet,
    table_class: type[tables.Table],
    filename: str,
    rows: Any = None,
) -> ListPage:
    """Filter, sort and page; ``export`` is the CSV download when the request asks for one (the view
    returns it as is). ``rows`` replaces the filterset's own rows when a view combines several."""
    data = filtered(filterset) if rows is None else rows
    table = table_class(data)
    RequestConfig(request, paginate={"per_page": PER_PAGE}).configure(table)
    export = None
    if (fmt := request.GET.get("_export")) in EXPORT_FORMATS and TableExport.is_valid_format(fmt):
        export = TableExport(fmt, table).response(f"{filename}.{fmt}")
    return ListPage(filterset=filterset, table=table, rows=data, export=export)
