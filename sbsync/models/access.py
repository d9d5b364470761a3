"""What each group may do with each model in an organization, and which rows it sees."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, TypeVar

from django.apps import apps
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from sbsync.conditions import validate_condition
from sbsync.enums import Action
from sbsync.models.tenancy import Organization

_M = TypeVar("_M", bound=models.Model)


class ConfigGeneration(models.Model):
    """One row whose token changes in the same transaction as any change to permissions, data filters or
    discovery. Cached configuration is keyed by the token (sbsync/cache.py), so every worker process sees
    a change at its next request, whatever the cache backend. A random token rather than a counter:
    a rolled-back or restored database can never make an old cache entry current again."""

    SINGLETON_PK = 1

    token = models.CharField(max_length=32, default="0")

    def __str__(self) -> str:
        return f"configuration generation {self.token}"

    @classmethod
    def bump(cls) -> None:
        token = uuid.uuid4().hex
        if not cls.objects.filter(pk=cls.SINGLETON_PK).update(token=token):
            cls.objects.update_or_create(pk=cls.SINGLETON_PK, defaults={"token": token})

    @classmethod
    def current(cls) -> str:
        return cls.objects.filter(pk=cls.SINGLETON_PK).values_list("token", flat=True).first() or "0"


class ConfigQuerySet(models.QuerySet[_M]):
    """Bulk writes to cached configuration invalidate the cache like single saves do."""

    def update(self, **kwargs: Any) -> int:
        count = super().update(**kwargs)
        ConfigGeneration.bump()
        return count

    def delete(self) -> tuple[int, dict[str, int]]:
        result = super().delete()
        ConfigGeneration.bump()
        return result

    def bulk_create(self, objs: Iterable[_M], *args: Any, **kwargs: Any) -> list[_M]:
        created = super().bulk_create(objs, *args, **kwargs)
        ConfigGeneration.bump()
        return created

    def bulk_update(self, objs: Iterable[_M], fields: Iterable[str], batch_size: int | None = None) -> int:
        count = super().bulk_update(objs, fields, batch_size=batch_size)
        ConfigGeneration.bump()
        return count


class ConfigModel(models.Model):
    """Saving or deleting one row of cached configuration invalidates the cache."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        ConfigGeneration.bump()

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        result = super().delete(*args, **kwargs)
        ConfigGeneration.bump()
        return result


FLAG_FIELDS = tuple(f"can_{action}" for action in Action.values)


def validate_model_label(value: str) -> None:
    try:
        apps.get_model(value)
    except (LookupError, ValueError):
        raise ValidationError(f"{value!r} is not an installed model (use app_label.ModelName).") from None


class ModelPermissionQuerySet(ConfigQuerySet["ModelPermission"]):
    def for_tenant(self, organization: Organization) -> ModelPermissionQuerySet:
        return self.filter(organization=organization)

    def for_group(self, group: Group) -> ModelPermissionQuerySet:
        return self.filter(group=group)


class ModelPermission(ConfigModel):
    """The flags of one group on one model inside one organization. No row means no access."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="model_permissions")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="sbsync_model_permissions")
    model_label = models.CharField(max_length=100, db_index=True, validators=[validate_model_label])
    can_push = models.BooleanField(default=False)
    can_pull = models.BooleanField(default=False)
    can_create = models.BooleanField(default=False)
    can_update = models.BooleanField(default=False)
    can_delete = models.BooleanField(default=False)
    can_read = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()
    objects = ModelPermissionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "group", "model_label"], name="sbsync_modelpermission_unique"
            )
        ]
        ordering = ["organization__name", "group__name", "model_label"]

    def __str__(self) -> str:
        granted = [a for a in Action.values if getattr(self, f"can_{a}")]
        return f"{self.group} on {self.model_label} in {self.organization}: {', '.join(granted) or 'nothing'}"

    def flags(self) -> dict[str, bool]:
        return {action: getattr(self, f"can_{action}") for action in Action.values}


class DataFilterQuerySet(ConfigQuerySet["DataFilter"]):
    def for_tenant(self, organization: Organization) -> DataFilterQuerySet:
        return self.filter(organization=organization)

    def active(self) -> DataFilterQuerySet:
        return self.filter(is_active=True)


class DataFilter(ConfigModel):
    """A row filter: members of ``group`` see only rows of ``model_label`` matching ``condition``.

    Several active filters on the same organization, group and model must all match (AND).
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="data_filters")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="sbsync_data_filters")
    model_label = models.CharField(max_length=100, db_index=True, validators=[validate_model_label])
    name = models.CharField(max_length=100)
    condition = models.JSONField(help_text='{"field": "...", "operator": "exact", "value": "... or $user"}')
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()
    objects = DataFilterQuerySet.as_manager()

    class Meta:
        ordering = ["organization__name", "group__name", "model_label", "name"]
        indexes = [
            models.Index(fields=["organization", "group", "model_label"], name="sbsync_datafilter_scope")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.model_label}, {self.group})"

    def clean(self) -> None:
        try:
            model = apps.get_model(self.model_label)
        except (LookupError, ValueError):
            raise ValidationError(
                {"model_label": f"{self.model_label!r} is not an installed model."}
            ) from None
        try:
            validate_condition(model, self.condition)
        except ValidationError as exc:
            raise ValidationError(
                {"condition": [f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items()]}
            ) from None

    def describe(self) -> str:
        c: dict[str, Any] = self.condition if isinstance(self.condition, dict) else {}
        return f"{c.get('field')} {c.get('operator')} {c.get('value')!r}"


class DiscoveryConfig(ConfigModel):
    """The model-discovery settings saved from the UI. When the row exists it overrides SBSYNC's four
    discovery settings; deleting it (``manage_config --action reset``) falls back to settings."""

    SINGLETON_PK = 1

    auto_discover_models = models.BooleanField(default=True)
    include_apps = models.JSONField(default=list, blank=True)
    exclude_models = models.JSONField(default=list, blank=True)
    include_models = models.JSONField(default=list, blank=True)
    shared_models = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()
    objects = ConfigQuerySet.as_manager()

    class Meta:
        verbose_name = "discovery configuration"
        verbose_name_plural = "discovery configuration"

    def __str__(self) -> str:
        return "Model discovery configuration"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.pk = self.SINGLETON_PK
        super().save(*args, **kwargs)
