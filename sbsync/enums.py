"""Choices shared by models, forms, serializers and the engine. A leaf module: imports nothing of ours."""

from __future__ import annotations

from django.db import models


class Operation(models.TextChoices):
    PUSH = "PUSH", "Push"
    PULL = "PULL", "Pull"


class LogStatus(models.TextChoices):
    SUCCESS = "SUCCESS", "Success"
    ERROR = "ERROR", "Error"
    WARNING = "WARNING", "Warning"


class Action(models.TextChoices):
    """What a role may do with a model; each is one flag of ModelPermission (``can_<action>``)."""

    PUSH = "push", "Push"
    PULL = "pull", "Pull"
    CREATE = "create", "Create"
    UPDATE = "update", "Update"
    DELETE = "delete", "Delete"
    READ = "read", "Read"


# The actions in their canonical order (permission matrix columns, flag dictionaries).
ACTIONS: tuple[str, ...] = tuple(Action.values)


class FilterOperator(models.TextChoices):
    """The fixed operator list of a DataFilter condition; each maps to one ORM lookup (``ne`` excludes)."""

    EXACT = "exact", "equals"
    NE = "ne", "does not equal"
    IEXACT = "iexact", "equals (case-insensitive)"
    CONTAINS = "contains", "contains"
    ICONTAINS = "icontains", "contains (case-insensitive)"
    STARTSWITH = "startswith", "starts with"
    ENDSWITH = "endswith", "ends with"
    IN = "in", "is one of"
    GT = "gt", "greater than"
    GTE = "gte", "at least"
    LT = "lt", "less than"
    LTE = "lte", "at most"
    ISNULL = "isnull", "is empty"


class RecordStatus(models.TextChoices):
    """Outcome of one pushed record (sbsync/docs/protocol.md section 4)."""

    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"
    REJECTED = "rejected"
    FORBIDDEN = "forbidden"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
