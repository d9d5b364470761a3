"""``show_models``: which models may sync, and why (the seed's actions, answered by sbsync.discovery)."""

from __future__ import annotations

from argparse import ArgumentParser
from itertools import groupby
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

from sbsync import conf, discovery
from sbsync.discovery import DiscoverySettings, ModelStatus
from sbsync.legacy_names import app_label_hint

ACTIONS = ("summary", "all", "enabled", "default", "details")
SETTING_NAMES = {
    "auto_discover_models": "AUTO_DISCOVER_MODELS",
    "include_apps": "INCLUDE_APPS",
    "exclude_models": "EXCLUDE_MODELS",
    "include_models": "INCLUDE_MODELS",
    "shared_models": "SHARED_MODELS",
}


def _kind(status: ModelStatus) -> str:
    if status.shared:
        return "shared, pull-only"
    return f"tenant field {status.tenant_field}" if status.tenant_field else "no tenant field"


class Command(BaseCommand):
    help = (
        "Show which models may sync: summary (configuration and counts), all (every candidate and why it is "
        "or is not enabled), enabled, default (what settings alone enable, before the web UI's saved "
        "configuration), details (fields of each enabled model)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--action", default="summary", choices=ACTIONS, help="what to show (default: summary)"
        )
        parser.add_argument("--app-label", help="only models of this app (its label, e.g. shop)")
        parser.add_argument("--verbose", action="store_true", help="also list fields and their attributes")

    def handle(self, *args: Any, **options: Any) -> None:
        app_label = options["app_label"]
        if app_label is not None:
            try:
                apps.get_app_config(app_label)
            except LookupError:
                known = ", ".join(sorted(c.label for c in apps.get_app_configs()))
                raise CommandError(
                    f"No installed app has the label {app_label!r}.{app_label_hint(app_label)} Installed: {known}."
                ) from None
        self.verbose = options["verbose"]
        config = discovery.current_config()
        statuses = [s for s in discovery.evaluate(config) if app_label in (None, s.model._meta.app_label)]
        if app_label is not None and not statuses:
            self.stdout.write(
                f"App {app_label!r} has no candidate models: Django's own apps, sbsync and its dependencies never sync."
            )
            return
        getattr(self, f"show_{options['action']}")(config, statuses, app_label)

    def write_config(self, config: DiscoverySettings) -> None:
        source = (
            "the database (saved from the web UI)" if config.source == "database" else "settings (SBSYNC)"
        )
        self.stdout.write(f"Discovery configuration from {source}:")
        for key, value in config.as_dict().items():
            shown = (
                value
                if isinstance(value, bool)
                else ", ".join(value) or ("(every app)" if key == "include_apps" else "(none)")
            )
            self.stdout.write(f"  {SETTING_NAMES[key]:<22}{shown}")
        self.stdout.write(f"  {'TENANT_FIELD':<22}{conf.get('TENANT_FIELD')}")

    def write_model(self, status: ModelStatus, *, reason: bool) -> None:
        mark = "enabled " if status.enabled else "disabled"
        line = f"  {mark}  {status.label:<32} {_kind(status)}"
        self.stdout.write(f"{line}: {status.reason}" if reason else line)
        if self.verbose:
            self.stdout.write(f"            fields: {', '.join(status.fields)}")

    def show_summary(
        self, config: DiscoverySettings, statuses: list[ModelStatus], app_label: str | None
    ) -> None:
        self.write_config(config)
        enabled = [s for s in statuses if s.enabled]
        shared = sum(1 for s in enabled if s.shared)
        scope = f" of app {app_label}" if app_label else ""
        self.stdout.write(
            f"\n{len(enabled)} of {len(statuses)} candidate models{scope} enabled "
            f"({len(enabled) - shared} tenant, {shared} shared pull-only)."
        )
        self.stdout.write("")
        for app, group in groupby(statuses, key=lambda s: s.model._meta.app_label):
            members = list(group)
            on = [s.label + (" (shared)" if s.shared else "") for s in members if s.enabled]
            off = [s.label for s in members if not s.enabled]
            self.stdout.write(f"{app}: {len(on)} of {len(members)} enabled")
            if on:
                self.stdout.write(f"  enabled:  {', '.join(on)}")
            if off:
                self.stdout.write(f"  disabled: {', '.join(off)}")
        if config.source == "database":
            self.stdout.write(
                "\nThe web UI's saved configuration overrides settings; --action default shows settings alone."
            )

    def show_all(self, config: DiscoverySettings, statuses: list[ModelStatus], app_label: str | None) -> None:
        self.stdout.write(f"{len(statuses)} candidate models (configuration from {config.source}):")
        for status in statuses:
            self.write_model(status, reason=True)

    def show_enabled(
        self, config: DiscoverySettings, statuses: list[ModelStatus], app_label: str | None
    ) -> None:
        enabled = [s for s in statuses if s.enabled]
        self.stdout.write(f"{len(enabled)} enabled models (configuration from {config.source}):")
        for status in enabled:
            self.write_model(status, reason=self.verbose)

    def show_default(
        self, config: DiscoverySettings, statuses: list[ModelStatus], app_label: str | None
    ) -> None:
        defaults = [
            s
            for s in discovery.evaluate(discovery.settings_config())
            if app_label in (None, s.model._meta.app_label)
        ]
        enabled = [s for s in defaults if s.enabled]
        self.stdout.write(
            f"{len(enabled)} models enabled by settings alone (the defaults for push and pull):"
        )
        for status in enabled:
            self.write_model(status, reason=self.verbose)
        if config.source != "database":
            self.stdout.write("No saved configuration overrides settings: these are the enabled models.")
            return
        now = {s.label for s in statuses if s.enabled}
        by_settings = {s.label for s in enabled}
        self.stdout.write("The web UI's saved configuration overrides settings:")
        self.stdout.write(f"  enabled only by it:  {', '.join(sorted(now - by_settings)) or '(none)'}")
        self.stdout.write(f"  disabled by it:      {', '.join(sorted(by_settings - now)) or '(none)'}")

    def show_details(
        self, config: DiscoverySettings, statuses: list[ModelStatus], app_label: str | None
    ) -> None:
        enabled = [s for s in statuses if s.enabled]
        if not enabled:
            self.stdout.write("No enabled models; --action all shows why.")
        for status in enabled:
            description = discovery.describe_model(status.model)
            pk = status.model._meta.pk
            self.stdout.write(
                f"{status.label} ({description['verbose_name']}, table {status.model._meta.db_table})"
            )
            self.stdout.write(f"  primary key: {pk.name} ({pk.get_internal_type()})")
            self.stdout.write(f"  tenancy:     {_kind(status)}")
            if self.verbose:
                self.stdout.write(f"  enabled:     {status.reason}")
                self.stdout.write(f"  rows:        {status.model._default_manager.count()}")
            self.stdout.write("  fields:")
            for info in description["fields"]:
                self.stdout.write(
                    f"    {info['name']:<24}{info['type']:<27} {self.field_notes(info)}".rstrip()
                )
            self.stdout.write("")

    def field_notes(self, info: dict[str, Any]) -> str:
        notes = []
        if info.get("primary_key"):
            notes.append("primary key")
        if info.get("related_model"):
            notes.append(f"-> {info['related_model']}")
        if self.verbose:
            notes.append("required" if info["required"] else "optional")
            if info["read_only"]:
                notes.append("read-only")
            if info["null"]:
                notes.append("null")
            if "max_length" in info and info["type"] != "UUIDField":
                notes.append(f"max {info['max_length']}")
            if "choices" in info:
                notes.append(f"choices: {', '.join(map(str, info['choices']))}")
        return ", ".join(notes)
