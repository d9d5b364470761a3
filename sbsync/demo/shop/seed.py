"""The demo's data (``manage.py seed_demo``): the seed's organizations, groups, users, permission table
and a few hundred deterministic shop records per organization. See sbsync/docs/demo.md.

Running it again gives the same state: it sets the demo's configuration (memberships, the permission
table, the Sales filter) back to the documented one, creates missing users, products and records, and
never deletes anything, changes a password or duplicates a record.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import models, transaction
from simple_history.utils import bulk_create_with_history

from sbsync.demo.shop.models import Customer, Department, Order, OrderStatus, Product, Report, ReportType
from sbsync.models import Organization
from sbsync.permissions_io import (
    ApplyReport,
    FilterEntry,
    PermissionDocument,
    PermissionEntry,
    apply_document,
)
from sbsync.provisioning import EXAMPLE_ORGANIZATIONS, create_organization, set_membership
from sbsync.roles import DEFAULT_GROUPS, ROLE_TEMPLATES, TEMPLATES, create_default_groups
from sbsync.sync.changes.tracking import mark_changed

PASSWORD = "sbsync-demo"
CUSTOMERS_PER_ORGANIZATION = 120
ORDERS_PER_ORGANIZATION = 240
REPORTS_PER_ORGANIZATION = 60
PRODUCTS = 24
ID_NAMESPACE = uuid.UUID("5b5e1c0d-7d1e-4a8e-9a51-2f0f3d6c9e01")
CHANGE_REASON = "seed_demo"


@dataclass(frozen=True)
class DemoUser:
    username: str
    memberships: tuple[tuple[str, str], ...]  # (organization slug, group)
    note: str
    staff: bool = False


EVERY_ORGANIZATION = tuple((slug, "Administrators") for _, slug in EXAMPLE_ORGANIZATIONS)
DEMO_USERS = (
    DemoUser(
        "admin",
        EVERY_ORGANIZATION,
        "staff superuser: the staff UI, the Django admin; Administrators everywhere",
        True,
    ),
    DemoUser("john_manager", (("acme-corp", "Managers"),), "Acme Corporation, Managers"),
    DemoUser("sue_support", (("acme-corp", "Support"),), "Acme Corporation, Support"),
    DemoUser(
        "mary_sales",
        (("global-retail", "Sales"),),
        "Global Retail, Sales: sees only the customers assigned to her",
    ),
    DemoUser(
        "tom_sales",
        (("global-retail", "Sales"),),
        "Global Retail, Sales: sees only the customers assigned to him",
    ),
    DemoUser(
        "rita_readonly", (("global-retail", "Read Only"),), "Global Retail, Read Only: pulls, never pushes"
    ),
    DemoUser(
        "bob_analyst",
        (("city-university", "Analysts"),),
        "City University, Analysts: pulls everything, pushes reports",
    ),
    DemoUser("una_user", (("city-university", "Users"),), "City University, Users"),
)
# Who customers are assigned to in each organization (None: nobody). Sales users see only their own.
ACCOUNT_MANAGERS: dict[str, tuple[str | None, ...]] = {
    "acme-corp": ("john_manager", "sue_support", None),
    "global-retail": ("mary_sales", "tom_sales", None),
    "city-university": ("una_user", None),
}

CUSTOMER_FACING = frozenset({"shop.Customer", "shop.Order"})
SALES_FILTER_NAME = "Assigned customers only"
SALES_FILTER = {"field": "assigned_manager", "operator": "exact", "value": "$user"}


def demo_template(group: str, label: str) -> str:
    """The seed's permission table applied to the shop models (sbsync/docs/demo.md): each group's role
    template (sbsync/roles.py), except where a shop model's role is narrower or wider."""
    if group == "Analysts" and label == "shop.Report":
        return "read_write"  # the seed's multi-tenant example has an analyst pushing a Report
    if group in ("Sales", "Support") and label not in CUSTOMER_FACING:
        return "read_only"
    return ROLE_TEMPLATES[group]


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)
    permissions: dict[str, ApplyReport] = field(default_factory=dict)

    def add(self, what: str, count: int) -> None:
        self.created[what] = self.created.get(what, 0) + count


def seed_demo() -> SeedReport:
    """Create the demo's missing organizations, groups, users, memberships, permissions, filters and
    records, in one transaction. Side effects: history rows for every record created, and change-index
    entries (``mark_changed``) so the records reach clients that pulled before they existed."""
    report = SeedReport()
    with transaction.atomic():
        created_groups, existing_groups = create_default_groups()
        report.add("groups", len(created_groups))
        groups = {g.name: g for g in created_groups + existing_groups}
        organizations = {}
        for name, slug in EXAMPLE_ORGANIZATIONS:
            organizations[slug], created = create_organization(name=name, slug=slug)
            report.add("organizations", int(created))
        users = _seed_users(organizations, groups, report)
        for slug, organization in organizations.items():
            applied = apply_document(
                _permission_document(slug, groups), organization, mode="merge", reason=CHANGE_REASON
            )
            report.permissions[slug] = applied
        _seed_products(report)
        for organization in organizations.values():
            _seed_records(organization, users, report)
    return report


def _seed_users(
    organizations: dict[str, Organization], groups: dict[str, Group], report: SeedReport
) -> dict[str, Any]:
    user_model = get_user_model()
    existing = {
        u.get_username(): u
        for u in user_model._default_manager.filter(username__in=[d.username for d in DEMO_USERS])
    }
    hashed = make_password(PASSWORD)  # one hash serves every new user: its salt travels inside it
    users = {}
    for demo in DEMO_USERS:
        user = existing.get(demo.username)
        if user is None:
            domain = demo.memberships[0][0] if demo.memberships and not demo.staff else "sbsync-demo"
            user = user_model(
                username=demo.username,
                email=f"{demo.username}@{domain}.example",
                password=hashed,
                is_staff=demo.staff,
                is_superuser=demo.staff,
            )
            user.save()
            report.add("users", 1)
        users[demo.username] = user
        for slug, group in demo.memberships:
            result = set_membership(user=user, organization=organizations[slug], group=groups[group])
            if result.outcome == "added":
                report.add("memberships", 1)
            elif result.outcome != "unchanged":
                report.add("memberships set back to their demo group", 1)
    return users


def _permission_document(slug: str, groups: dict[str, Group]) -> PermissionDocument:
    shop_models = (Customer, Order, Report, Product)
    entries = []
    for name in DEFAULT_GROUPS:
        for model in shop_models:
            template = TEMPLATES[demo_template(name, model._meta.label)]
            entries.append(
                PermissionEntry(
                    group=groups[name], model=model, flags=template.flags(shared=model is Product)
                )
            )
    sales_filter = FilterEntry(
        group=groups["Sales"], model=Customer, name=SALES_FILTER_NAME, condition=dict(SALES_FILTER)
    )
    return PermissionDocument(organization=slug, permissions=tuple(entries), filters=(sales_filter,))


def _bulk_create(model: type[models.Model], objects: list[Any]) -> list[Any]:
    if not objects:
        return []
    created: list[Any] = bulk_create_with_history(
        objects, model, batch_size=500, default_change_reason=CHANGE_REASON
    )
    mark_changed(model._default_manager.filter(pk__in=[o.pk for o in created]))
    return created


def _seed_products(report: SeedReport) -> None:
    rng = random.Random("sbsync-demo:products")
    adjectives = ["Classic", "Compact", "Deluxe", "Eco", "Pro", "Smart"]
    nouns = ["Desk Lamp", "Notebook", "Backpack", "Water Bottle"]
    wanted = {}
    for n in range(PRODUCTS):
        sku = f"SB-{n + 1:04d}"
        name = f"{adjectives[n % len(adjectives)]} {nouns[n // len(adjectives) % len(nouns)]}"
        wanted[sku] = Product(sku=sku, name=name, price=Decimal(rng.randint(199, 19999)) / 100)
    existing = set(Product.objects.filter(sku__in=wanted).values_list("sku", flat=True))
    missing = [p for sku, p in wanted.items() if sku not in existing]
    _bulk_create(Product, missing)
    report.add("products", len(missing))


FIRST_NAMES = [
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hugo",
    "Iris",
    "Jonas",
    "Kemi",
    "Liam",
    "Maya",
    "Nils",
    "Olga",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Umar",
    "Vera",
    "Wen",
    "Yusuf",
]
LAST_NAMES = [
    "Andersen",
    "Banerjee",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ito",
    "Jensen",
    "Kowalski",
    "Lopez",
    "Moreau",
    "Novak",
    "Okafor",
    "Petrov",
    "Rossi",
    "Schmidt",
]
RESULTS = ["Positive", "Negative", "Needs follow-up", "Within expectations", "Above target", "Below target"]


def _seed_records(organization: Organization, users: dict[str, Any], report: SeedReport) -> None:
    slug = organization.slug
    ids = [uuid.uuid5(ID_NAMESPACE, f"{slug}:customer:{n}") for n in range(CUSTOMERS_PER_ORGANIZATION)]
    if Customer.objects.filter(pk=ids[0]).exists():
        return  # seeded before, in one transaction: all of this organization's records exist
    rng = random.Random(f"sbsync-demo:{slug}")
    managers = [users[name] if name else None for name in ACCOUNT_MANAGERS[slug]]
    customers = [
        Customer(
            id=customer_id,
            name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            age=rng.randint(18, 90),
            department=rng.choice(Department.values),
            assigned_manager=managers[n % len(managers)],
            organization=organization,
        )
        for n, customer_id in enumerate(ids)
    ]
    _bulk_create(Customer, customers)
    orders = [
        Order(
            customer=rng.choice(customers),
            amount=Decimal(rng.randint(500, 250000)) / 100,
            status=rng.choices(OrderStatus.values, weights=[3, 5, 6, 1])[0],
            organization=organization,
        )
        for _ in range(ORDERS_PER_ORGANIZATION)
    ]
    _bulk_create(Order, orders)
    reports = [
        Report(
            customer=rng.choice(customers),
            report_type=rng.choice(ReportType.values),
            results=rng.choice(RESULTS),
            organization=organization,
        )
        for _ in range(REPORTS_PER_ORGANIZATION)
    ]
    _bulk_create(Report, reports)
    report.add("customers", len(customers))
    report.add("orders", len(orders))
    report.add("reports", len(reports))
