from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from sbsync.demo.shop.models import Customer, Order, Product, Report


@admin.register(Customer)
class CustomerAdmin(SimpleHistoryAdmin):
    list_display = ["name", "department", "assigned_manager", "organization", "updated_at"]
    list_filter = ["organization", "department"]
    list_select_related = ["assigned_manager", "organization"]
    search_fields = ["name"]
    raw_id_fields = ["assigned_manager"]


@admin.register(Order)
class OrderAdmin(SimpleHistoryAdmin):
    list_display = ["id", "customer", "amount", "status", "organization", "created_at"]
    list_filter = ["organization", "status"]
    list_select_related = ["customer", "organization"]
    raw_id_fields = ["customer"]


@admin.register(Report)
class ReportAdmin(SimpleHistoryAdmin):
    list_display = ["id", "customer", "report_type", "organization", "created_at"]
    list_filter = ["organization", "report_type"]
    list_select_related = ["customer", "organization"]
    raw_id_fields = ["customer"]


@admin.register(Product)
class ProductAdmin(SimpleHistoryAdmin):
    list_display = ["sku", "name", "price"]
    search_fields = ["sku", "name"]
