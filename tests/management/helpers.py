"""Running commands in tests, and snapshots of what they may write (to prove a failure wrote nothing)."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management import call_command

from sbsync.models import ConfigGeneration, DataFilter, Membership, ModelPermission, Organization


def run(*args: str) -> tuple[str, str]:
    """``manage.py <args>`` in-process; returns (stdout, stderr). A CommandError propagates."""
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def snapshot() -> dict[str, Any]:
    """Everything the setup commands write, in a comparable form."""
    return {
        "organizations": sorted(Organization.objects.values_list("slug", "name", "description", "is_active")),
        "groups": sorted(Group.objects.values_list("name", flat=True)),
        "users": sorted(User.objects.values_list("username", "password")),
        "memberships": sorted(
            Membership.objects.values_list("user__username", "organization__slug", "group__name", "is_active")
        ),
        "permissions": sorted(
            ModelPermission.objects.values_list(
                "organization__slug",
                "group__name",
                "model_label",
                "can_push",
                "can_pull",
                "can_create",
                "can_update",
                "can_delete",
                "can_read",
            )
        ),
        "filters": sorted(
            (
                f.organization.slug,
                f.group.name,
                f.model_label,
                f.name,
                json.dumps(f.condition, sort_keys=True),
                f.is_active,
            )
            for f in DataFilter.objects.select_related("organization", "group")
        ),
        "generation": ConfigGeneration.current(),
    }


def write_document(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return path


def permission(group: str, model: str, *actions: str) -> dict[str, Any]:
    """One entry of a permissions document granting ``actions``."""
    flags = {f"can_{a}": a in actions for a in ("push", "pull", "create", "update", "delete", "read")}
    return {"group": group, "model": model, **flags}
