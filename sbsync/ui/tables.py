"""One Table per list page of the staff UI (sbsync/docs/ui.md). CSV export goes through the same table,
so it has the page's filters and order; action columns are left out of it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst

from sbsync.enums import FilterOperator, LogStatus
from sbsync.models import DataFilter, Organization, PerformanceMetrics, ServiceToken, SyncLog
from sbsync.service_tokens import status_of
from sbsync.ui import audit
from sbsync.ui.audit import ACTIONS, KINDS, Detail

TEMPLATE = "sbsync/table.html"
NUMERIC = {"td": {"class": "numeric"}, "th": {"class": "numeric"}}
COLLAPSE_AFTER = 3  # an audit row lists up to this many changes, more are folded under their count
# The last column of buttons, kept in view at the right edge when the table scrolls sideways (ui.css).
ACTIONS_COLUMN = {"td": {"class": "nowrap actions"}, "th": {"class": "actions"}}


def badge(text: str, kind: str) -> str:
    return format_html('<span class="badge badge-{}">{}</span>', kind.lower(), text)


class ExportedDateTimeColumn(tables.DateTimeColumn):
    """A date and time shown in the column's ``format``, and exported in full as ISO 8601 in the current
    time zone, so a spreadsheet reads it as a moment."""

    def value(self, value: Any) -> str:
        return timezone.localtime(value).isoformat()


class DataFilterTable(tables.Table):
    name = tables.LinkColumn("sbsync:data-filter-edit", args=[tables.A("pk")])
    organization = tables.Column(order_by=("organization__name",))
    group = tables.Column(order_by=("group__name",))
    model_label = tables.Column(verbose_name="Model")
    condition = tables.Column(orderable=False)
    is_active = tables.BooleanColumn(verbose_name="Active")
    updated_at = ExportedDateTimeColumn(
        verbose_name="Changed", format="Y-m-d H:i", attrs={"td": {"class": "nowrap"}}
    )
    actions = tables.TemplateColumn(
        template_name="sbsync/data_filter_list.html#actions",
        attrs=ACTIONS_COLUMN,
        orderable=False,
        exclude_from_export=True,
        verbose_name="",
    )

    class Meta:
        model = DataFilter
        template_name = TEMPLATE
        fields = ("name", "organization", "group", "model_label", "condition", "is_active", "updated_at")
        empty_text = "No data filters match."
        attrs = {"class": "table"}

    @staticmethod
    def _condition(record: DataFilter) -> str:
        """The condition in words: the operator by its label ("at least", not ``gte``)."""
        c: dict[str, Any] = record.condition if isinstance(record.condition, dict) else {}
        operator = c.get("operator")
        label = FilterOperator(operator).label if operator in FilterOperator.values else operator
        value = c.get("value")
        shown = ", ".join(map(str, value)) if isinstance(value, list) else value
        return f"{c.get('field')} {label} {shown}"

    def render_condition(self, record: DataFilter) -> str:
        return format_html("<code>{}</code>", self._condition(record))

    def value_condition(self, record: DataFilter) -> Any:
        return self._condition(record)


class SyncLogTable(tables.Table):
    timestamp = ExportedDateTimeColumn(
        verbose_name="When",
        format="Y-m-d H:i:s",
        linkify=("sbsync:sync-log-detail", [tables.A("code")]),
        attrs={"td": {"class": "nowrap"}},
    )
    operation = tables.Column()
    status = tables.Column()
    user = tables.Column(order_by=("user__username",), default="–")
    organization = tables.Column(order_by=("organization__name",), default="–")
    models = tables.Column(accessor="model_names", verbose_name="Models", orderable=False)
    object_count = tables.Column(verbose_name="Records", attrs=NUMERIC)
    success_count = tables.Column(verbose_name="OK", attrs=NUMERIC)
    error_count = tables.Column(verbose_name="Errors", attrs=NUMERIC)
    processing_time = tables.Column(verbose_name="Time (ms)", attrs=NUMERIC)

    class Meta:
        model = SyncLog
        template_name = TEMPLATE
        fields = ()
        order_by = ("-timestamp",)
        empty_text = "No sync logs match."
        # A stable id per row: the 30-second refresh morphs rows by it, so focus stays on the same log.
        row_attrs = {"id": lambda record: f"log-{record.code}"}

    def render_operation(self, record: SyncLog) -> str:
        return badge(record.get_operation_display(), record.operation)

    def value_operation(self, record: SyncLog) -> str:
        return str(record.operation)

    def render_status(self, record: SyncLog) -> str:
        return badge(record.get_status_display(), record.status)

    def value_status(self, record: SyncLog) -> str:
        return str(record.status)

    @staticmethod
    def _models(record: SyncLog) -> list[str]:
        return record.model_names or ([record.model_name] if record.model_name else [])

    def render_models(self, record: SyncLog) -> str:
        return ", ".join(self._models(record)) or "–"

    def value_models(self, record: SyncLog) -> str:
        return " ".join(self._models(record))

    def render_processing_time(self, value: float) -> str:
        return f"{value * 1000:,.1f}"

    def value_processing_time(self, value: float) -> float:
        return round(value * 1000, 3)


def log_url(record: Any) -> str | None:
    """The sync log a metrics sample was recorded with (``log_code`` annotated by the view), or None once
    log retention has deleted it."""
    code = getattr(record, "log_code", None)
    return reverse("sbsync:sync-log-detail", args=[code]) if code else None


class MetricsTable(tables.Table):
    """Samples, newest first. Each links to its sync log while the log is kept; a refused request's
    status says so and it has no records per second (it moved no records); records per second count the
    records applied."""

    timestamp = ExportedDateTimeColumn(
        verbose_name="When", format="Y-m-d H:i:s", linkify=log_url, attrs={"td": {"class": "nowrap"}}
    )
    operation_type = tables.Column(verbose_name="Operation")
    # Shown inside the operation's cell (a badge when the request was not a plain success), so the table
    # keeps its width; the CSV has it as a column of its own.
    status = tables.Column(visible=False)
    model_name = tables.Column(verbose_name="Model")
    organization = tables.Column(order_by=("organization__name",), default="–")
    batch_size = tables.Column(verbose_name="Batch", attrs=NUMERIC)
    # Shown in the batch's cell when fewer records were applied than sent ("7 of 10"); a CSV column.
    records_applied = tables.Column(verbose_name="Applied", visible=False)
    processing_time = tables.Column(verbose_name="Time (ms)", attrs=NUMERIC)
    records_per_second = tables.Column(
        verbose_name="Records/s",
        orderable=False,
        default="–",
        attrs=NUMERIC,
    )
    query_count = tables.Column(verbose_name="Queries", attrs=NUMERIC)
    memory_usage = tables.Column(
        verbose_name="Memory (MB)",
        default="–",
        attrs=NUMERIC,
    )

    class Meta:
        model = PerformanceMetrics
        template_name = TEMPLATE
        fields = ()
        order_by = ("-timestamp",)
        empty_text = "No performance samples match."

    def render_processing_time(self, value: float) -> str:
        return f"{value * 1000:,.1f}"

    def value_processing_time(self, value: float) -> float:
        return round(value * 1000, 3)

    def render_operation_type(self, record: PerformanceMetrics) -> str:
        if record.status == LogStatus.SUCCESS:
            return record.operation_type
        shown = "Refused" if record.status == LogStatus.ERROR else record.get_status_display()
        return format_html("{} {}", record.operation_type, badge(shown, record.status))

    def value_operation_type(self, record: PerformanceMetrics) -> str:
        return record.operation_type

    def value_status(self, record: PerformanceMetrics) -> str:
        return str(record.status)

    def render_batch_size(self, record: PerformanceMetrics) -> str:
        """The records sent, and those applied when a request that went through applied fewer (the
        records per second beside it count those)."""
        if record.status != LogStatus.ERROR and record.records_applied != record.batch_size:
            return f"{record.records_applied:,} of {record.batch_size:,}"
        return f"{record.batch_size:,}"

    def value_batch_size(self, record: PerformanceMetrics) -> int:
        return record.batch_size

    def render_records_per_second(self, value: float) -> str:
        return f"{value:,.0f}"

    def value_records_per_second(self, value: float) -> float:
        return round(value, 3)

    def render_memory_usage(self, value: float) -> str:
        return f"{value:.1f}"

    def value_memory_usage(self, value: float | None) -> float | None:
        return value


class AuditTable(tables.Table):
    """Rows are ``audit.combine`` dicts; ``details`` (from ``audit.describe``) holds labels and changes."""

    history_date = ExportedDateTimeColumn(
        verbose_name="When", format="Y-m-d H:i:s", attrs={"td": {"class": "nowrap", "data-label": "When"}}
    )
    user = tables.Column(
        accessor="history_user__username",
        verbose_name="Who",
        orderable=False,
        default="(system)",
        attrs={"td": {"data-label": "Who"}},
    )
    kind = tables.Column(verbose_name="Model", orderable=False, attrs={"td": {"data-label": "Model"}})
    object = tables.Column(
        accessor="history_id", verbose_name="Object", orderable=False, attrs={"td": {"data-label": "Object"}}
    )
    history_type = tables.Column(
        verbose_name="Action", orderable=False, attrs={"td": {"data-label": "Action"}}
    )
    changes = tables.Column(
        accessor="history_id",
        verbose_name="Changes (before → after)",
        orderable=False,
        attrs={"td": {"data-label": "Changes"}},
    )

    class Meta:
        template_name = TEMPLATE
        order_by = ("-history_date",)
        empty_text = "No changes match."
        attrs = {"class": "stacked audit"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.details: dict[tuple[str, int], Detail] | None = None

    def as_values(self, exclude_columns: Any = None) -> Any:
        # The export covers every row, not one page: describe them all first (a few queries per kind).
        self.details = audit.describe(list(self.data))
        return super().as_values(exclude_columns)

    def _detail(self, record: dict[str, Any]) -> Detail:
        if self.details is None:
            # Labels and diffs of the shown page only, described together (queries per kind, not per row).
            self.details = audit.describe(row.record for row in self.page.object_list)
        return self.details.get((record["kind"], record["history_id"]), Detail(label="", changes=[]))

    def render_kind(self, value: str) -> str:
        return capfirst(str(KINDS[value]._meta.verbose_name))

    def value_kind(self, value: str) -> str:
        return str(KINDS[value]._meta.label)

    def render_history_type(self, value: str) -> str:
        return badge(ACTIONS.get(value, value), ACTIONS.get(value, value))

    def value_history_type(self, value: str) -> str:
        return ACTIONS.get(value, value)

    def value_object(self, record: dict[str, Any]) -> str:
        return self._detail(record).label

    def render_changes(self, record: dict[str, Any]) -> str:
        changes = self._detail(record).changes
        if not changes:
            return "–"
        if record["history_type"] == "+":
            items = format_html_join(
                "",
                '<li><span class="field-name">{}</span>: <ins>{}</ins></li>',
                ((c.field, c.after) for c in changes),
            )
        elif record["history_type"] == "-":
            items = format_html_join(
                "",
                '<li><span class="field-name">{}</span>: <del>{}</del></li>',
                ((c.field, c.before) for c in changes),
            )
        else:
            items = format_html_join(
                "",
                '<li><span class="field-name">{}</span>: <del>{}</del> → <ins>{}</ins></li>',
                ((c.field, c.before or "∅", c.after or "∅") for c in changes),
            )
        diff = format_html('<ul class="diff">{}</ul>', items)
        if len(changes) <= COLLAPSE_AFTER:
            return diff
        # Long diffs (a created or deleted record lists every value) are collapsed, with their count.
        noun = {"+": "values", "-": "last values"}.get(record["history_type"], "fields changed")
        return format_html(
            '<details class="diff-details"><summary>{} {}</summary>{}</details>', len(changes), noun, diff
        )

    def render_object(self, record: dict[str, Any]) -> str:
        url = reverse("sbsync:audit-trails")
        query = urlencode({"model": record["kind"], "object": record["id"]})
        # One element, so a phone's stacked row keeps the label and its link together in the value column.
        return format_html(
            '<span>{} <a class="history-link" href="{}?{}" aria-label="History of {}">history</a></span>',
            self._detail(record).label,
            url,
            query,
            self._detail(record).label,
        )

    def value_changes(self, record: dict[str, Any]) -> str:
        return self._detail(record).as_text()


class OrganizationTable(tables.Table):
    name = tables.Column(linkify=("sbsync:organization-detail", [tables.A("slug")]))
    slug = tables.Column()
    members = tables.Column(verbose_name="Active members", attrs=NUMERIC)
    is_active = tables.BooleanColumn(verbose_name="Active")
    created_at = ExportedDateTimeColumn(verbose_name="Created", format="Y-m-d")

    class Meta:
        model = Organization
        template_name = TEMPLATE
        fields = ("name", "slug", "members", "is_active", "created_at")
        empty_text = "No organizations match."


class ServiceTokenTable(tables.Table):
    name = tables.Column()
    user = tables.Column(order_by=("user__username",))
    token_key = tables.Column(verbose_name="Starts with", orderable=False)
    issued_by = tables.Column(order_by=("issued_by__username",), default="–")
    created_at = ExportedDateTimeColumn(
        verbose_name="Issued", format="Y-m-d H:i", attrs={"td": {"class": "nowrap"}}
    )
    expiry = ExportedDateTimeColumn(
        verbose_name="Expires", format="Y-m-d", default="never", attrs={"td": {"class": "nowrap"}}
    )
    status = tables.Column(empty_values=(), orderable=False)
    revoke = tables.TemplateColumn(
        template_name="sbsync/token_list.html#revoke",
        attrs=ACTIONS_COLUMN,
        orderable=False,
        exclude_from_export=True,
        verbose_name="",
    )

    class Meta:
        model = ServiceToken
        template_name = TEMPLATE
        fields = ("name", "user", "token_key", "issued_by", "created_at", "expiry")
        empty_text = "No tokens match."

    def render_token_key(self, value: str) -> str:
        return format_html("<code>{}…</code>", value)

    def value_token_key(self, value: str) -> str:
        return f"{value}…"

    def render_status(self, record: ServiceToken) -> str:
        status = status_of(record)
        return badge(status, status)

    def value_status(self, record: ServiceToken) -> str:
        return status_of(record)
