"""A client replica for pull tests: applies pages the way a client does (data upserts, deleted removes)
and keeps one cursor per model."""

from __future__ import annotations

from typing import Any

from django.apps import apps

from sbsync.access import access_for
from sbsync.sync.pull.page import PullPage, build_pull_page


class Replica:
    def __init__(self, user, organization, labels: list[str]) -> None:
        self.user = user
        self.organization = organization
        self.labels = labels
        self.rows: dict[tuple[str, str], dict[str, Any]] = {}
        self.cursors: dict[str, str | None] = dict.fromkeys(labels)
        self.pages: list[PullPage] = []

    def pull(self, batch_size: int = 100) -> PullPage:
        access = access_for(self.user, self.organization)
        requests = {apps.get_model(label): self.cursors[label] for label in self.labels}
        page = build_pull_page(access=access, requests=requests, batch_size=batch_size)
        for record in page.data:
            self.rows[key_of(record)] = record
        for record in page.deleted:
            self.rows.pop(key_of(record), None)
        for label, model_page in page.models.items():
            self.cursors[label] = model_page.cursor.encode()
        self.pages.append(page)
        return page

    def pull_to_end(self, batch_size: int = 100, limit: int = 10_000) -> list[PullPage]:
        pages = []
        for _ in range(limit):
            pages.append(self.pull(batch_size))
            if not pages[-1].has_more:
                return pages
        raise AssertionError(f"still has_more after {limit} pulls")

    def of(self, label: str) -> dict[str, dict[str, Any]]:
        """This replica's rows of ``label`` by primary key text, without ``_model`` and ``_version``."""
        return {
            pk: {k: v for k, v in record.items() if k not in ("_model", "_version")}
            for (model, pk), record in self.rows.items()
            if model == label
        }


def key_of(record: dict[str, Any]) -> tuple[str, str]:
    model = apps.get_model(record["_model"])
    return record["_model"], str(record[model._meta.pk.name])


def row_state(instance) -> dict[str, Any]:
    """What a pull must send for ``instance``: every concrete field under its name, foreign keys as the
    target's primary key, read straight from the database."""
    model = type(instance)
    fields = model._meta.concrete_fields
    values = model._default_manager.filter(pk=instance.pk).values(*(f.attname for f in fields)).get()
    return {f.name: values[f.attname] for f in fields}
