"""Forms of the staff UI. Each validates input completely, so a view either gets clean data or
re-renders the form with its errors (never a 500, never a partial write)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, cast

from django import forms
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models

from sbsync import discovery
from sbsync.conditions import validate_condition
from sbsync.enums import ACTIONS, FilterOperator
from sbsync.models import DataFilter, DiscoveryConfig, Membership, Organization
from sbsync.provisioning import AlreadyMember, SetupError, add_member
from sbsync.service_tokens import may_issue_for
from sbsync.ui.matrix import Cell

# A service token lives a year at most: long enough for a device, never endless.
MAX_TOKEN_DAYS = 366
DEFAULT_TOKEN_DAYS = 90


class OrganizationField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """An organization posted by its slug, active or not (staff manage every organization)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("queryset", Organization.objects.order_by("name"))
        kwargs.setdefault("to_field_name", "slug")
        kwargs.setdefault("empty_label", None)
        super().__init__(**kwargs)


class OrganizationSelectForm(forms.Form):
    """Which organization a page shows, chosen among ``organizations`` (already loaded by the view), and
    for the matrix which groups (none ticked: every group)."""

    organization = forms.ChoiceField()
    groups = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Groups shown"
    )

    def __init__(
        self, *args: Any, organizations: list[Organization], groups: Sequence[Group] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.organizations = {org.slug: org for org in organizations}
        cast(forms.ChoiceField, self.fields["organization"]).choices = [
            (org.slug, org.name if org.is_active else f"{org.name} (inactive)") for org in organizations
        ]
        cast(forms.ChoiceField, self.fields["groups"]).choices = [(str(g.pk), g.name) for g in groups]

    def clean_organization(self) -> Organization:
        return self.organizations[self.cleaned_data["organization"]]

    def clean_groups(self) -> list[int]:
        return [int(pk) for pk in self.cleaned_data["groups"]]


class GroupsField(forms.TypedMultipleChoiceField):
    """The groups a matrix shows, posted back by its forms so a redrawn matrix shows the same ones."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(coerce=int, required=False, **kwargs)

    def valid_value(self, value: Any) -> bool:
        return str(value).isdigit()


def ticked_keys(data: Any) -> set[str]:
    """The matrix boxes ticked in posted ``data``: each box is posted under its own key (``Cell.key``)."""
    return {name for name, value in data.items() if value == "on" and name.count(":") == 2}


class CellForm(forms.Form):
    """One checkbox of the matrix: ``cell`` names it, and it is granted when the box itself (posted
    under that key) is ticked. Only these fields are posted, so a large matrix stays far below
    Django's DATA_UPLOAD_MAX_NUMBER_FIELDS."""

    organization = OrganizationField()
    cell = forms.CharField(max_length=200)

    def clean_cell(self) -> Cell:
        try:
            return Cell.parse(self.cleaned_data["cell"])
        except ValueError:
            raise forms.ValidationError("Not a cell of the matrix.") from None

    @property
    def granted(self) -> bool:
        cell: Cell = self.cleaned_data["cell"]
        return self.data.get(cell.key) == "on"


class BulkForm(forms.Form):
    """A whole row, column or the whole matrix: ``bulk`` is ``grant:all``, ``revoke:row:<model>`` or
    ``grant:column:<group id>:<action>`` (one value, so a plain submit button can carry it). Posted as
    ``bulk`` it asks first (how many boxes per group would change); posted as ``confirmed`` it applies."""

    organization = OrganizationField()
    bulk = forms.CharField(max_length=200, required=False)
    confirmed = forms.CharField(max_length=200, required=False)
    groups = GroupsField()

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        raw = data.get("confirmed") or data.get("bulk")
        if not raw:
            raise forms.ValidationError("Choose a row, a column or the whole matrix.")
        data["spec"] = self.parse(raw)
        data["spec"]["confirmed"] = bool(data.get("confirmed"))
        data["spec"]["raw"] = raw
        return data

    @staticmethod
    def parse(raw: str) -> dict[str, Any]:
        parts = raw.split(":")
        verb, scope, rest = parts[0], parts[1] if len(parts) > 1 else "", parts[2:]
        if verb not in ("grant", "revoke"):
            raise forms.ValidationError("Choose grant or revoke.")
        if scope == "all" and not rest:
            return {"grant": verb == "grant", "scope": "all"}
        if scope == "row" and len(rest) == 1 and rest[0]:
            return {"grant": verb == "grant", "scope": "row", "model": rest[0]}
        if scope == "column" and len(rest) == 2 and rest[0].isdigit() and rest[1] in ACTIONS:
            return {"grant": verb == "grant", "scope": "column", "group": int(rest[0]), "action": rest[1]}
        raise forms.ValidationError("Not a row, column or the whole matrix.")


class UndoForm(forms.Form):
    """Puts back what a bulk change changed: ``undo`` is ``grant|<key>,<key>...`` (grant these cells
    again) or ``revoke|...``, as the answer to the bulk change wrote it."""

    organization = OrganizationField()
    undo = forms.CharField()
    groups = GroupsField()

    def clean_undo(self) -> tuple[bool, list[Cell]]:
        verb, _, keys = self.cleaned_data["undo"].partition("|")
        try:
            cells = [Cell.parse(key) for key in keys.split(",") if key]
        except ValueError:
            raise forms.ValidationError("Not a change of the matrix.") from None
        if verb not in ("grant", "revoke") or not cells:
            raise forms.ValidationError("Not a change of the matrix.")
        return verb == "grant", cells


def undo_value(grant: bool, cells: list[Cell]) -> str:
    """The ``undo`` of UndoForm that sets ``cells`` back: the opposite of ``grant``."""
    return f"{'revoke' if grant else 'grant'}|{','.join(c.key for c in cells)}"


class MatrixSaveForm(forms.Form):
    """The whole matrix posted without JavaScript: every ticked box under its own key, and ``shown``,
    the keys that were ticked when the page was drawn (comma-separated), so only the boxes the user
    changed are written."""

    organization = OrganizationField()
    shown = forms.CharField(required=False)

    def changes(self, cells: list[Cell]) -> dict[Cell, bool]:
        """For each of ``cells`` whose box the user changed: whether it is now ticked."""
        ticked = ticked_keys(self.data)
        shown = set(filter(None, self.cleaned_data["shown"].split(",")))
        return {cell: cell.key in ticked for cell in cells if (cell.key in ticked) != (cell.key in shown)}


def _enabled_label_choices(extra: str | None = None) -> list[tuple[str, str]]:
    labels = [m._meta.label for m in discovery.enabled_models()]
    if extra and extra.lower() not in {label.lower() for label in labels}:
        labels.append(extra)
    return [(label, label) for label in sorted(labels, key=str.lower)]


def _model_or_none(label: str | None) -> type[models.Model] | None:
    try:
        return apps.get_model(label) if label else None
    except (LookupError, ValueError):
        return None


def _typed(target: models.Field[Any, Any], raw: str) -> Any:
    """A condition value typed for JSON: numbers and booleans as such, anything else as text."""
    if raw.startswith("$"):
        return raw
    try:
        value = target.to_python(raw)
    except ValidationError:
        return raw
    return value if isinstance(value, (bool, int, float)) else raw


class DataFilterForm(forms.Form):
    """A data filter with its condition as three inputs (field, operator, value), validated against the
    model's fields by ``sbsync.conditions.validate_condition`` with each error on its own input."""

    organization = OrganizationField()
    group = forms.ModelChoiceField(queryset=Group.objects.order_by("name"))
    model_label = forms.ChoiceField(label="Model")
    name = forms.CharField(max_length=100)
    field = forms.ChoiceField(label="Field", help_text="A field of the model.")
    operator = forms.ChoiceField(choices=FilterOperator.choices)
    value = forms.CharField(
        required=False,
        max_length=500,
        help_text="Text, a number or true/false; $user, $user.username or $user.email for the requesting "
        "user. For “is one of”, separate values with commas; for “is empty”, true or false.",
    )
    is_active = forms.BooleanField(required=False, initial=True, label="Active")

    def __init__(self, *args: Any, instance: DataFilter | None = None, **kwargs: Any) -> None:
        self.instance = instance or DataFilter()
        if instance is not None and "initial" not in kwargs:
            condition = instance.condition if isinstance(instance.condition, dict) else {}
            value = condition.get("value")
            kwargs["initial"] = {
                "organization": instance.organization.slug,
                "group": instance.group.pk,
                "model_label": instance.model_label,
                "name": instance.name,
                "field": condition.get("field"),
                "operator": condition.get("operator"),
                "value": ", ".join(map(str, value))
                if isinstance(value, list)
                else ("" if value is None else str(value)),
                "is_active": instance.is_active,
            }
        super().__init__(*args, **kwargs)
        chosen = self.data.get("model_label") if self.is_bound else self.initial.get("model_label")
        choices = _enabled_label_choices(instance.model_label if instance else None)
        cast(forms.ChoiceField, self.fields["model_label"]).choices = choices
        model = _model_or_none(chosen) or (_model_or_none(choices[0][0]) if choices else None)
        self.model = model
        cast(forms.ChoiceField, self.fields["field"]).choices = (
            [(f.name, f.name) for f in model._meta.concrete_fields] if model else []
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.model is None or not {"field", "operator"} <= data.keys():
            return data
        found = cast("models.Field[Any, Any]", self.model._meta.get_field(data["field"]))
        target = cast("models.ForeignKey[Any, Any]", found).target_field if found.is_relation else found
        raw = (data.get("value") or "").strip()
        operator = data["operator"]
        if not raw:
            # An empty value is never a condition (it would be checked as the field's type, e.g. as a UUID).
            self.add_error("value", "Enter a value for the condition.")
            return data
        value: Any
        if operator == FilterOperator.ISNULL:
            value = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}.get(
                raw.lower(), raw
            )
        elif operator == FilterOperator.IN:
            value = [_typed(target, item.strip()) for item in raw.split(",") if item.strip()]
        else:
            value = _typed(target, raw)
        condition = {"field": data["field"], "operator": operator, "value": value}
        try:
            validate_condition(self.model, condition)
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                self.add_error(key if key in ("field", "operator", "value") else None, messages)
        data["condition"] = condition
        return data

    def save(self) -> DataFilter:
        data = self.cleaned_data
        instance = self.instance
        instance.organization = data["organization"]
        instance.group = data["group"]
        instance.model_label = data["model_label"]
        instance.name = data["name"]
        instance.condition = data["condition"]
        instance.is_active = data["is_active"]
        instance.full_clean()
        instance.save()
        return instance


def _app_choices() -> list[tuple[str, str]]:
    labels = sorted({m._meta.app_label for m in discovery.candidate_models()})
    return [(label, label) for label in labels]


def _model_choices(*, shared_only: bool = False) -> list[tuple[str, str]]:
    return [
        (m._meta.label, m._meta.label)
        for m in discovery.candidate_models()
        if not shared_only or discovery.tenant_field(m) is None
    ]


class DiscoveryForm(forms.Form):
    """The model-discovery settings saved to the database (they then override SBSYNC's)."""

    auto_discover_models = forms.BooleanField(
        required=False,
        label="Discover models automatically",
        help_text="Every model of the included apps, minus the excluded ones. Off: only the included models.",
    )
    include_apps = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Include apps",
        help_text="None ticked: every app.",
    )
    exclude_models = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    include_models = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Always enabled, even without auto-discovery.",
    )
    shared_models = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Reference data without an organization field, pulled by every organization (pull-only).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["include_apps"]).choices = _app_choices()
        cast(forms.ChoiceField, self.fields["exclude_models"]).choices = _model_choices()
        cast(forms.ChoiceField, self.fields["include_models"]).choices = _model_choices()
        cast(forms.ChoiceField, self.fields["shared_models"]).choices = _model_choices(shared_only=True)

    def to_settings(self) -> discovery.DiscoverySettings:
        data = self.cleaned_data
        return discovery.DiscoverySettings(
            auto_discover_models=data["auto_discover_models"],
            include_apps=tuple(data["include_apps"]),
            exclude_models=tuple(data["exclude_models"]),
            include_models=tuple(data["include_models"]),
            shared_models=tuple(data["shared_models"]),
            source="preview",
        )

    def save(self) -> DiscoveryConfig:
        config = DiscoveryConfig.objects.filter(pk=DiscoveryConfig.SINGLETON_PK).first() or DiscoveryConfig()
        for name, value in self.to_settings().as_dict().items():
            setattr(config, name, value)
        config.save()
        return config


class OrganizationCreateForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Organization
        fields = ["name", "slug", "description"]
        help_texts = {
            "slug": "Clients name the organization by it (X-Sync-Organization); it cannot change later."
        }
        # organization_list.js fills the slug from the (prefixed) name field as it is typed.
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "slug": forms.TextInput(attrs={"data-slug-from": "new-name"}),
        }


class OrganizationEditForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Organization
        fields = ["name", "description", "is_active"]
        labels = {"is_active": "Active"}
        help_texts = {"is_active": "An inactive organization's members cannot push or pull."}
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class AddMemberForm(forms.Form):
    username = forms.CharField(max_length=150)
    group = forms.ModelChoiceField(queryset=Group.objects.order_by("name"), help_text="The member's role.")
    create_user = forms.BooleanField(
        required=False,
        label="Create the user if it does not exist",
        help_text="As a service account without a password: it signs in with API tokens only.",
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.user: Any = None

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        username = data.get("username")
        if not username:
            return data
        user_model = get_user_model()
        lookup = {str(user_model.USERNAME_FIELD): username}
        self.user = user_model._default_manager.filter(**lookup).first()
        if self.user is None and not data.get("create_user"):
            self.add_error(
                "username", f"There is no user named “{username}”. Tick the box below to create it."
            )
        elif self.user is None:
            try:
                user_model(**lookup).full_clean(exclude=["password"])
            except ValidationError as exc:
                self.add_error("username", exc.message_dict.get(str(user_model.USERNAME_FIELD), exc.messages))
        elif Membership.objects.for_user(self.user).for_tenant(self.organization).exists():
            self.add_error("username", self.already_member(username))
        return data

    def already_member(self, username: str) -> str:
        return f"“{username}” already belongs to {self.organization}; change its group below."

    def save(self) -> Membership | None:
        """The new membership (and service user) through ``provisioning.add_member``, or None when it
        refused (a concurrent request added the same user first, or the new username is not valid): the
        form then carries the error on the username."""
        username = self.cleaned_data["username"]
        try:
            result = add_member(
                username=username,
                organization=self.organization,
                group=self.cleaned_data["group"],
                service_account=bool(self.cleaned_data.get("create_user")),
                move=False,
            )
        except AlreadyMember:
            self.add_error("username", self.already_member(username))
            return None
        except SetupError as exc:
            self.add_error("username", str(exc))
            return None
        return result.membership


class MembershipForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Membership
        fields = ["group", "is_active"]
        labels = {"is_active": "Active"}


class IssueTokenForm(forms.Form):
    """Issue a token for a user: ``issuer`` may act only as themselves unless allowed more
    (``service_tokens.may_issue_for``), and every token expires."""

    username = forms.CharField(max_length=150, label="User", help_text="The service user the token acts as.")
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. “warehouse scanner 3”.")
    lifetime_days = forms.IntegerField(
        min_value=1,
        max_value=MAX_TOKEN_DAYS,
        initial=DEFAULT_TOKEN_DAYS,
        label="Expires after (days)",
        help_text=f"Every token expires: at most {MAX_TOKEN_DAYS} days.",
    )

    def __init__(self, *args: Any, issuer: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.issuer = issuer

    def clean_username(self) -> Any:
        username = self.cleaned_data["username"]
        user_model = get_user_model()
        user = user_model._default_manager.filter(
            **{str(user_model.USERNAME_FIELD): username}, is_active=True
        ).first()
        if user is None:
            raise forms.ValidationError(f"There is no active user named “{username}”.")
        if (refusal := may_issue_for(self.issuer, user)) is not None:
            raise forms.ValidationError(refusal)
        return user

    @property
    def lifetime(self) -> timedelta:
        return timedelta(days=self.cleaned_data["lifetime_days"])
