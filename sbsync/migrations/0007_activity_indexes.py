"""Fewer indexes on the tables every push and pull writes (SyncLog, PerformanceMetrics and the sync
metadata): each index is written by every request, and an index on ``last_sync`` kept PostgreSQL from
updating the metadata rows in place. Foreign keys keep their constraints; only their single-column
indexes go where a composite index leads with the same column. The indexes are dropped by name (Django's
names for them, and PostgreSQL's ``_like`` twins), so the foreign-key constraints are not dropped and
re-created, which would check every row of a large log table under lock."""

from __future__ import annotations

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sbsync", "0006_ui_metrics_log_and_token_history"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="performancemetrics",
                    name="model_name",
                    field=models.CharField(blank=True, max_length=100),
                ),
                migrations.AlterField(
                    model_name="performancemetrics",
                    name="operation_type",
                    field=models.CharField(max_length=20),
                ),
                migrations.AlterField(
                    model_name="synclog",
                    name="model_name",
                    field=models.CharField(
                        blank=True, help_text="First model; all of them in model_names", max_length=100
                    ),
                ),
                migrations.AlterField(
                    model_name="synclog",
                    name="operation",
                    field=models.CharField(choices=[("PUSH", "Push"), ("PULL", "Pull")], max_length=10),
                ),
                migrations.AlterField(
                    model_name="synclog",
                    name="organization",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="sync_logs",
                        to="sbsync.organization",
                    ),
                ),
                migrations.AlterField(
                    model_name="synclog",
                    name="status",
                    field=models.CharField(
                        choices=[("SUCCESS", "Success"), ("ERROR", "Error"), ("WARNING", "Warning")],
                        max_length=10,
                    ),
                ),
                migrations.AlterField(
                    model_name="synclog",
                    name="user",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="sbsync_logs",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="syncmetadata",
                    name="last_sync",
                    field=models.DateTimeField(default=django.utils.timezone.now),
                ),
                migrations.AlterField(
                    model_name="syncmetadata",
                    name="model_name",
                    field=models.CharField(max_length=100),
                ),
                migrations.AlterField(
                    model_name="syncmetadata",
                    name="organization",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="sync_metadata",
                        to="sbsync.organization",
                    ),
                ),
                migrations.AlterField(
                    model_name="usersyncmetadata",
                    name="last_sync",
                    field=models.DateTimeField(default=django.utils.timezone.now),
                ),
                migrations.AlterField(
                    model_name="usersyncmetadata",
                    name="model_name",
                    field=models.CharField(max_length=100),
                ),
                migrations.AlterField(
                    model_name="usersyncmetadata",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="sbsync_sync_metadata",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    ['DROP INDEX IF EXISTS "sbsync_synclog_organization_id_dedbfb0b"'],
                    reverse_sql=[
                        'CREATE INDEX IF NOT EXISTS "sbsync_synclog_organization_id_dedbfb0b" ON "sbsync_synclog" ("organization_id")'
                    ],
                ),
                migrations.RunSQL(
                    ['DROP INDEX IF EXISTS "sbsync_synclog_user_id_45d54391"'],
                    reverse_sql=[
                        'CREATE INDEX IF NOT EXISTS "sbsync_synclog_user_id_45d54391" ON "sbsync_synclog" ("user_id")'
                    ],
                ),
                migrations.RunSQL(
                    [
                        'DROP INDEX IF EXISTS "sbsync_synclog_operation_3f8e72d1"',
                        'DROP INDEX IF EXISTS "sbsync_synclog_operation_3f8e72d1_like"',
                    ],
                    reverse_sql=[
                        'CREATE INDEX IF NOT EXISTS "sbsync_synclog_operation_3f8e72d1" ON "sbsync_synclog" ("operation")'
                    ],
                ),
                migrations.RunSQL(
                    [
                        'DROP INDEX IF EXISTS "sbsync_synclog_status_00b148d4"',
                        'DROP INDEX IF EXISTS "sbsync_synclog_status_00b148d4_like"',
                    ],
                    reverse_sql=[
                        'CREATE INDEX IF NOT EXISTS "sbsync_synclog_status_00b148d4" ON "sbsync_synclog" ("status")'
                    ],
                ),
                migrations.RunSQL(
                    [
                        'DROP INDEX IF EXISTS "sbsync_synclog_model_name_b4c2c538"',
                        'DROP INDEX IF EXISTS "sbsync_synclog_model_name_b4c2c538_like"',
                    ],
                    reverse_sql=[
                        'CREATE INDEX IF NOT EXISTS "sbsync_synclog_model_name_b4c2c538" ON "sbsync_synclog" ("model_name")'
                    ],
                ),
                migrations.RunSQL(
                    [
                        'DROP INDEX IF EXISTS "sbsync_performancemetrics_operation_type_3af51705"',
                        'DROP INDEX IF EXISTS "sbsync_performancemetrics_operation_type_3af51705_like"',
                    ],
                    reverse_sql=[
                        'CREATE INDEX IF NOT EXISTS "sbsync_performancemetrics_operation_type_3af51705" ON "sbsync_performancemetrics" ("operation_type")'
                    ],
                ),
                migrations.RunSQL(
                    [
                        'DROP INDEX IF EXISTS "sbsync_performancemetrics_model_name_94a7a16c"',
                        'DROP INDEX IF EXISTS "sbsync_performancemetrics_model_name_94a7a16c_like"',
                    ],
                    reverse_sql=[
                        'CREATE INDEX IF NOT EXISTS "sbsync_performancemetrics_model_name_94a7a16c" ON "sbsync_performancemetrics" ("model_name")'
                    ],
                ),
                migrations.RunSQL(
                    ['DROP INDEX IF EXISTS "sbsync_syncmetadata_organization_id_a4c85420"'],
                    reverse_sql=[
                        'CREATE INDEX IF NOT EXISTS "sbsync_syncmetadata_organization_id_a4c85420" ON "sbsync_syncmetadata" ("organization_id")'
                    ],
                ),
                migrations.RunSQL(
                    [
                        'DROP INDEX IF EXISTS "sbsync_syncmetadata_model_name_bff6af8f"',
                        'DROP INDEX IF EXISTS "sbsync_syncmetadata_model_name_bff6af8f_like"',
                    ],
                    reverse_sql=[
                        'CREATE INDEX IF NOT EXISTS "sbsync_syncmetadata_model_name_bff6af8f" ON "sbsync_syncmetadata" ("model_name")'
                    ],
                ),
                migrations.RunSQL(
                    ['DROP INDEX IF EXISTS "sbsync_syncmetadata_last_sync_1c30a3bf"'],
                    reverse_sql=[
                        'CREATE INDEX IF NOT EXISTS "sbsync_syncmetadata_last_sync_1c30a3bf" ON "sbsync_syncmetadata" ("last_sync")'
                    ],
                ),
                migrations.RunSQL(
                    ['DROP INDEX IF EXISTS "sbsync_usersyncmetadata_user_id_8d0c2304"'],
                    reverse_sql=[
                        'CREATE INDEX IF NOT EXISTS "sbsync_usersyncmetadata_user_id_8d0c2304" ON "sbsync_usersyncmetadata" ("user_id")'
                    ],
                ),
                migrations.RunSQL(
                    [
                        'DROP INDEX IF EXISTS "sbsync_usersyncmetadata_model_name_05493c25"',
                        'DROP INDEX IF EXISTS "sbsync_usersyncmetadata_model_name_05493c25_like"',
                    ],
                    reverse_sql=[
                        'CREATE INDEX IF NOT EXISTS "sbsync_usersyncmetadata_model_name_05493c25" ON "sbsync_usersyncmetadata" ("model_name")'
                    ],
                ),
                migrations.RunSQL(
                    ['DROP INDEX IF EXISTS "sbsync_usersyncmetadata_last_sync_414844f1"'],
                    reverse_sql=[
                        'CREATE INDEX IF NOT EXISTS "sbsync_usersyncmetadata_last_sync_414844f1" ON "sbsync_usersyncmetadata" ("last_sync")'
                    ],
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="performancemetrics",
            index=models.Index(fields=["model_name"], name="sbsync_perf_model"),
        ),
        migrations.AddIndex(
            model_name="synclog",
            index=models.Index(fields=["status", "-timestamp"], name="sbsync_synclog_status_time"),
        ),
        migrations.AddIndex(
            model_name="synclog",
            index=models.Index(fields=["model_name"], name="sbsync_synclog_model"),
        ),
    ]
