"""The pending-records index becomes (scope, seq) WHERE seq IS NULL: a pull's check for pending records
("scope = ? AND seq IS NULL") then constrains both of its columns, and SQLite's planner uses it instead of
scanning every record of the scope through the pull index's (scope) prefix."""

from __future__ import annotations

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sbsync", "0004_servicetoken_issue_permission"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="syncrecord",
            name="sbsync_syncrecord_pending",
        ),
        migrations.AddIndex(
            model_name="syncrecord",
            index=models.Index(
                condition=models.Q(("seq__isnull", True)),
                fields=["scope", "seq"],
                name="sbsync_syncrecord_pending_seq",
            ),
        ),
    ]
