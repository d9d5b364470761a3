"""``make_<model>(**overrides)`` builders. Each creates one row with sensible defaults."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Group, Permission, User
from django.utils import timezone

from sbsync.demo.shop.models import Customer, Order, Product, Report
from sbsync.enums import Action, LogStatus, Operation
from sbsync.models import (
    ChangeClock,
    DataFilter,
    IdempotencyRecord,
    Membership,
    ModelPermission,
    Organization,
    PerformanceMetrics,
    SyncLog,
)

_seq = itertools.count(1)
PASSWORD = "pw-for-tests"


def make_user(**overrides: Any) -> User:
    n = next(_seq)
    overrides.setdefault("username", f"user{n}")
    overrides.setdefault("email", f"{overrides['username']}@example.test")
    password = overrides.pop("password", PASSWORD)
    user = User(**overrides)
    user.set_password(password)
    user.save()
    return user


def grant(user: User, *codes: str) -> User:
    """Give ``user`` Django permissions by ``app_label.codename`` and return it read afresh (Django
    caches a user's permissions on the instance)."""
    for code in codes:
        app_label, codename = code.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return User.objects.get(pk=user.pk)


def sbsync_permissions() -> list[str]:
    """Every Django permission of sbsync's models, as ``sbsync.<codename>``."""
    return [
        f"sbsync.{c}"
        for c in Permission.objects.filter(content_type__app_label="sbsync").values_list(
            "codename", flat=True
        )
    ]


def make_organization(**overrides: Any) -> Organization:
    n = next(_seq)
    overrides.setdefault("name", f"Organization {n}")
    overrides.setdefault("slug", f"org-{n}")
    return Organization.objects.create(**overrides)


def make_group(name: str | None = None) -> Group:
    return Group.objects.get_or_create(name=name or f"Group {next(_seq)}")[0]


def make_membership(**overrides: Any) -> Membership:
    if "user" not in overrides:
        overrides["user"] = make_user()
    if "organization" not in overrides:
        overrides["organization"] = make_organization()
    if "group" not in overrides:
        overrides["group"] = make_group()
    return Membership.objects.create(**overrides)


def make_permission(**overrides: Any) -> ModelPermission:
    """A permission row; ``actions=[...]`` sets those flags, otherwise every flag is granted."""
    actions = overrides.pop("actions", Action.values)
    if "organization" not in overrides:
        overrides["organization"] = make_organization()
    if "group" not in overrides:
        overrides["group"] = make_group()
    overrides.setdefault("model_label", "shop.Customer")
    for action in Action.values:
        overrides.setdefault(f"can_{action}", action in actions)
    return ModelPermission.objects.create(**overrides)


def make_filter(**overrides: Any) -> DataFilter:
    if "organization" not in overrides:
        overrides["organization"] = make_organization()
    if "group" not in overrides:
        overrides["group"] = make_group()
    overrides.setdefault("model_label", "shop.Customer")
    overrides.setdefault("name", f"Filter {next(_seq)}")
    overrides.setdefault("condition", {"field": "assigned_manager", "operator": "exact", "value": "$user"})
    return DataFilter.objects.create(**overrides)


def make_customer(**overrides: Any) -> Customer:
    overrides.setdefault("name", f"Customer {next(_seq)}")
    if "organization" not in overrides:
        overrides["organization"] = make_organization()
    return Customer.objects.create(**overrides)


def make_order(**overrides: Any) -> Order:
    if "customer" not in overrides:
        overrides["customer"] = make_customer(
            **({"organization": overrides["organization"]} if "organization" in overrides else {})
        )
    overrides.setdefault("organization", overrides["customer"].organization)
    overrides.setdefault("amount", Decimal("10.00"))
    return Order.objects.create(**overrides)


def make_report(**overrides: Any) -> Report:
    if "customer" not in overrides:
        overrides["customer"] = make_customer(
            **({"organization": overrides["organization"]} if "organization" in overrides else {})
        )
    overrides.setdefault("organization", overrides["customer"].organization)
    overrides.setdefault("report_type", "ANALYSIS")
    return Report.objects.create(**overrides)


def make_product(**overrides: Any) -> Product:
    n = next(_seq)
    overrides.setdefault("sku", f"SKU-{n}")
    overrides.setdefault("name", f"Product {n}")
    overrides.setdefault("price", Decimal("9.99"))
    return Product.objects.create(**overrides)


def make_sync_log(**overrides: Any) -> SyncLog:
    overrides.setdefault("operation", Operation.PUSH)
    overrides.setdefault("status", LogStatus.SUCCESS)
    overrides.setdefault("model_name", "shop.Customer")
    overrides.setdefault("model_names", [overrides["model_name"]] if overrides["model_name"] else [])
    overrides.setdefault("object_count", 1)
    # A request that went through applied every record it sent; a refused one none.
    overrides.setdefault(
        "success_count", 0 if overrides["status"] == LogStatus.ERROR else overrides["object_count"]
    )
    overrides.setdefault("processing_time", 0.05)
    return SyncLog.objects.create(**overrides)


def make_metrics(**overrides: Any) -> PerformanceMetrics:
    overrides.setdefault("operation_type", "push")
    overrides.setdefault("model_name", "shop.Customer")
    overrides.setdefault("batch_size", 10)
    overrides.setdefault(
        "records_applied", 0 if overrides.get("status") == LogStatus.ERROR else overrides["batch_size"]
    )
    overrides.setdefault("processing_time", 0.05)
    overrides.setdefault("memory_usage", 80.0)
    overrides.setdefault("query_count", 5)
    return PerformanceMetrics.objects.create(**overrides)


def make_idempotency_record(**overrides: Any) -> IdempotencyRecord:
    if "user" not in overrides:
        overrides["user"] = make_user()
    if "organization" not in overrides:
        overrides["organization"] = make_organization()
    overrides.setdefault("key", f"batch-{next(_seq)}")
    overrides.setdefault("body_hash", "0" * 64)
    overrides.setdefault("expires_at", timezone.now() + timedelta(hours=1))
    return IdempotencyRecord.objects.create(**overrides)


def is_error(code: str, status: int | None = None) -> Any:
    """For ``pytest.raises(ProtocolError, check=is_error(code))``: the protocol error ``code``."""

    def check(exc: BaseException) -> bool:
        return getattr(exc, "code", None) == code and (
            status is None or getattr(exc, "status", None) == status
        )

    return check


def clock_horizon(scope: int) -> int:
    """The scope's tombstone horizon as stored (0 before anything of the scope was positioned)."""
    return ChangeClock.objects.filter(scope=scope).values_list("horizon", flat=True).first() or 0
