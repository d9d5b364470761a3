"""The built wheel, installed into a brand-new project with the lines of the README ('Add sbsync to an
existing project').

Builds with ``python -m build`` (hatchling comes from the package index into an isolated build
environment) and installs the wheel with its dependencies into a fresh virtual environment, so missing
package data or dependency metadata fails here rather than in a user's project.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INSTALL_DOC = ROOT / "README.md"

ITEM_MODELS = """
from django.db import models

from sbsync.models import Organization


class Item(models.Model):
    name = models.CharField(max_length=100)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)


class Note(models.Model):
    text = models.TextField()
"""

SERVE_API = """
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()  # allows the test client's host, as in a test run
client = Client()
schema = client.get("/api/sync/schema/", HTTP_ACCEPT="application/json")
login = client.post("/api/sync/auth/token/", {"username": "nobody", "password": "x"})
print("schema", schema.status_code, "/api/sync/push/" in schema.json()["paths"])
print("login", login.status_code, login.json()["error"])
"""

COMPILE_TEMPLATES = """
from pathlib import Path
import sbsync
from django.template.loader import get_template
root = Path(sbsync.__file__).parent / "templates"
names = sorted(str(p.relative_to(root)) for p in root.rglob("*.html"))
for name in names:
    get_template(name)
print(len(names), "templates compiled")
"""


def clean_env() -> dict[str, str]:
    """The environment of a user's shell: none of the test run's Django, database or sbsync settings."""
    skip = ("DJANGO_", "SBSYNC_", "DATABASE_URL", "REDIS_URL", "PYTHONPATH", "VIRTUAL_ENV")
    return {k: v for k, v in os.environ.items() if not k.startswith(skip)}


def run(*args: str | Path, cwd: Path = ROOT) -> str:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=clean_env(), capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, (
        f"{' '.join(map(str, args))} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result.stdout + result.stderr


def documented_block(name: str) -> str:
    """The python block of the README whose first line is ``# <name>``."""
    blocks = re.findall(r"```python\n(.*?)```", INSTALL_DOC.read_text(), flags=re.S)
    found = [b for b in map(textwrap.dedent, blocks) if b.startswith(f"# {name}\n")]
    assert len(found) == 1, f"README.md needs exactly one python block starting with '# {name}'"
    return found[0]


def source_files(folder: str) -> set[str]:
    base = ROOT / folder / "sbsync"
    return {f"sbsync/{folder}/sbsync/{p.relative_to(base)}" for p in base.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--wheel", "--outdir", out, ROOT)
    (built,) = out.glob("sbsync-*.whl")
    return built


@pytest.mark.slow
def test_wheel_ships_templates_static_files_and_migrations_but_not_the_demo(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())

    assert source_files("templates") <= names
    assert source_files("static") <= names
    assert "sbsync/static/sbsync/favicon.svg" in names
    assert "sbsync/migrations/0001_initial.py" in names
    assert "sbsync/management/commands/show_models.py" in names
    assert [n for n in names if n.startswith("sbsync/demo") or n.startswith("tests/")] == []


@pytest.mark.slow
def test_wheel_installs_into_a_new_project(wheel, tmp_path):
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    run(python, "-m", "pip", "install", "--quiet", wheel)
    run(venv / "bin" / "django-admin", "startproject", "hostproject", cwd=tmp_path)
    project = tmp_path / "hostproject"
    run(python, "manage.py", "startapp", "inventory", cwd=project)
    (project / "inventory" / "models.py").write_text(ITEM_MODELS)
    settings = project / "hostproject" / "settings.py"
    settings.write_text(
        settings.read_text() + "\n" + documented_block("settings.py") + '\nINSTALLED_APPS += ["inventory"]\n'
    )
    urls = project / "hostproject" / "urls.py"
    urls.write_text(urls.read_text() + "\n" + documented_block("urls.py"))

    run(python, "manage.py", "makemigrations", "inventory", cwd=project)
    run(python, "manage.py", "migrate", cwd=project)
    check = run(python, "manage.py", "check", cwd=project)
    summary = run(python, "manage.py", "show_models", "--action", "summary", cwd=project)
    static = run(python, "manage.py", "findstatic", "sbsync/favicon.svg", cwd=project)
    templates = run(python, "manage.py", "shell", "-c", COMPILE_TEMPLATES, cwd=project)
    api = run(python, "manage.py", "shell", "-c", SERVE_API, cwd=project)

    assert check.strip() == "System check identified no issues (0 silenced)."
    assert "1 of 2 candidate models enabled (1 tenant, 0 shared pull-only)." in summary
    assert "inventory: 1 of 2 enabled\n  enabled:  inventory.Item\n  disabled: inventory.Note\n" in summary
    for foreign in ("auth.", "contenttypes.", "sessions.", "admin.", "sbsync.", "knox.", "Historical"):
        assert foreign not in summary
    assert "schema 200 True" in api
    assert "login 400 invalid_credentials" in api
    assert str(venv) in static
    assert (
        f"{len([n for n in source_files('templates') if n.endswith('.html')])} templates compiled"
        in templates
    )
