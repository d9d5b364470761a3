"""The seed's example models. Customer has a UUID key so offline clients can create customers."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from sbsync.models import Organization


class Department(models.TextChoices):
    SALES = "SALES", "Sales"
    SUPPORT = "SUPPORT", "Support"
    ENGINEERING = "ENGINEERING", "Engineering"
    MARKETING = "MARKETING", "Marketing"
    FINANCE = "FINANCE", "Finance"


class Customer(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    name = models.CharField(max_length=200)
    age = models.PositiveSmallIntegerField(null=True, blank=True)
    department = models.CharField(max_length=20, choices=Department.choices, blank=True)
    assigned_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OrderStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    PAID = "PAID", "Paid"
    SHIPPED = "SHIPPED", "Shipped"
    CANCELLED = "CANCELLED", "Cancelled"


class Order(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="orders")
    amount = models.DecimalField(max_digits=10, decimal_places=2)
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"Order {self.pk} ({self.status})"


class ReportType(models.TextChoices):
    ANALYSIS = "ANALYSIS", "Analysis"
    SUMMARY = "SUMMARY", "Summary"
    AUDIT = "AUDIT", "Audit"


class Report(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="reports")
    report_type = models.CharField(max_length=20, choices=ReportType.choices)
    results = models.TextField(blank=True)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.report_type} report {self.pk}"


class Product(models.Model):
    """Reference data shared by every organization (SHARED_MODELS): pull-only through the API."""

    sku = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=10, decimal_places=2)

    history = HistoricalRecords()

    class Meta:
        ordering = ["sku"]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"
