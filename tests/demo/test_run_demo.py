"""``run_demo`` as a user runs it: a real process with its own SQLite database, serving HTTP."""

from __future__ import annotations

import html
import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def collect(stream, lines: list[str]) -> None:
    for line in stream:
        lines.append(line)


def start_demo(tmp_path, port):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DJANGO_SETTINGS_MODULE="sbsync.demo.settings", SBSYNC_DATA_DIR=str(tmp_path))
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_demo", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a shell gives a foreground job
    )
    lines: list[str] = []
    threading.Thread(target=collect, args=(process.stdout, lines), daemon=True).start()
    return process, lines


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError("timed out")


def child_pids(lines) -> dict[str, int]:
    """The pids run_demo reports: {"Huey consumer": ..., "Web server": ...}."""
    found = (re.match(r"(Huey consumer|Web server) started \(pid (\d+)\)", line) for line in list(lines))
    return {m.group(1): int(m.group(2)) for m in found if m}


def stop_leftovers(process, lines) -> None:
    """After a failed test, leave no process behind (the children run in their own sessions)."""
    if process.poll() is None:
        process.kill()
        process.wait()
    for pid in child_pids(lines).values():
        if is_alive(pid):
            os.kill(pid, signal.SIGKILL)


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def admin_page(base: str, path: str) -> str:
    """Log in to the admin as the demo's admin and fetch ``path``."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    login = opener.open(f"{base}/admin/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login).group(1)
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": "admin", "password": "sbsync-demo", "next": path}
    )
    return opener.open(f"{base}/admin/login/", data=form.encode()).read().decode()


def server_up(base: str) -> bool:
    try:
        return urllib.request.urlopen(f"{base}/admin/login/", timeout=2).status == 200
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.parametrize(
    "stop",
    [
        # Ctrl-C in a terminal signals the whole foreground process group.
        pytest.param(lambda p: os.killpg(p.pid, signal.SIGINT), id="ctrl-c"),
        pytest.param(lambda p: p.send_signal(signal.SIGTERM), id="sigterm"),
    ],
)
def test_run_demo_serves_the_seeded_demo_and_stops_both_processes(tmp_path, stop):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process, lines = start_demo(tmp_path, port)
    try:
        wait_for(lambda: len(child_pids(lines)) == 2)
        wait_for(lambda: server_up(base))

        customers = admin_page(base, "/admin/shop/customer/")
        organizations = admin_page(base, "/admin/sbsync/organization/")
        landing = urllib.request.urlopen(f"{base}/").read().decode()
        example = html.unescape(re.search(r"<pre><code>(.*?)</code></pre>", landing, flags=re.S).group(1))
        tried = subprocess.run(["bash", "-ec", example], capture_output=True, text=True, timeout=60)
        stop(process)
        process.wait(timeout=30)
    finally:
        pids = child_pids(lines)
        stop_leftovers(process, lines)

    # The landing page's example, run as a user pastes it, reaches this server on its non-default port.
    assert port != 8000 and f"{base}/api/sync/pull/" in example
    assert tried.returncode == 0, tried.stderr
    pulled = json.loads(tried.stdout)
    assert [r["_model"] for r in pulled["data"]] == ["shop.Customer"] * 5
    assert len({r["organization"] for r in pulled["data"]}) == 1  # john_manager's organization only
    assert pulled["batch_info"]["has_more"] is True
    assert "360 customers" in customers
    assert all(name in organizations for name in ("Acme Corporation", "Global Retail", "City University"))
    assert process.returncode == 0
    assert wait_for(lambda: "Demo stopped.\n" in lines, timeout=5)
    assert not [line for line in lines if "Traceback" in line]
    assert [pid for pid in pids.values() if is_alive(pid)] == []
    assert not server_up(base)


@pytest.mark.slow
def test_run_demo_stops_the_consumer_when_the_server_cannot_start(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process, lines = start_demo(tmp_path, port)
        try:
            process.wait(timeout=60)
        finally:
            stop_leftovers(process, lines)

    assert process.returncode == 1
    assert wait_for(
        lambda: "CommandError: The web server stopped with exit code 1; the demo was stopped.\n" in lines,
        timeout=5,
    )
    pids = child_pids(lines)
    assert sorted(pids) == ["Huey consumer", "Web server"]
    assert [pid for pid in pids.values() if is_alive(pid)] == []
