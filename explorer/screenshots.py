"""Serve the explorer and drive it with headless Chromium: for the browser test and the docs' pictures.

Why one module for both: the browser test proves the pages really draw in a browser (Plotly
renders client-side, which Streamlit's own test harness never runs), and the same walk through
the pages makes the screenshots in ``docs/screenshots/``:

    .venv/bin/python -m explorer.screenshots docs/screenshots            # against a made-up warehouse
    .venv/bin/python -m explorer.screenshots docs/screenshots --home ~/.llif   # against a real one

Chromium comes from the system (``apt-get install -y chromium``), not from Playwright's own
download, which needs network access to Playwright's servers.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from explorer.app import PAGES

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
APP = Path(__file__).resolve().parent / "app.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(home: Path, port: int, script: Path = APP) -> subprocess.Popen:
    """``streamlit run`` on localhost with the headless settings the tests and `make ui` use."""
    env = dict(os.environ, LLIF_HOME=str(home))
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
           "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none", "--client.toolbarMode", "viewer", "--theme.primaryColor", "#0072B2"]
    return subprocess.Popen(cmd, env=env, cwd=APP.parent.parent, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)


def wait_healthy(port: int, proc: subprocess.Popen | None = None, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"streamlit stopped: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    return
        except Exception:
            time.sleep(0.5)
    raise TimeoutError(f"streamlit did not answer on port {port} within {timeout}s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def page_url(base: str, page_file: str) -> str:
    """The URL Streamlit gives a page: the file's stem; the default page is the root."""
    stem = Path(page_file).stem
    return base + "/" if page_file == PAGES[0][0] else f"{base}/{stem}"


def wait_for_page(page, expect_charts: bool, timeout_ms: int = 30000, expect: str | None = None) -> dict:
    """Wait until the script has finished and, where expected, Plotly has drawn its SVG."""
    page.wait_for_selector("[data-testid='stAppViewContainer']", timeout=timeout_ms)
    page.wait_for_selector("[data-testid='stCaptionContainer'], [data-testid='stForm'], [data-testid='stAlert'], [data-testid='stAlertContainer']", timeout=timeout_ms)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout_ms)
    if expect:
        page.wait_for_selector(expect, timeout=timeout_ms)
    if expect_charts:
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=timeout_ms)
    page.wait_for_timeout(500)
    return {
        "charts": page.locator(".js-plotly-plot").count(),
        "drawn": page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot')]"
                               ".filter(p => p.querySelector('svg.main-svg') && p.querySelectorAll('svg *').length > 20).length"),
        "exceptions": page.locator("[data-testid='stException']").count(),
        "text": page.inner_text("[data-testid='stMain']") if page.locator("[data-testid='stMain']").count() else "",
    }


def log_in(page, name: str, password: str, timeout_ms: int = 60000) -> None:
    """Fill in the explorer's login form (every fresh visit starts there) and wait for the page."""
    page.wait_for_selector("[data-testid='stForm']", timeout=timeout_ms)
    page.get_by_label("User name").fill(name)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("[data-testid='stSidebarNav']", timeout=timeout_ms)


def capture(base: str, out_dir: Path, pages=PAGES, width: int = 1400, height: int = 1800,
            login: tuple[str, str] | None = None) -> dict[str, dict]:
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    results = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page(viewport={"width": width, "height": height})
            for page_file, title, _ in pages:
                started = time.perf_counter()
                tab.goto(page_url(base, page_file))
                if login is not None:
                    log_in(tab, *login)
                info = wait_for_page(tab, expect_charts=page_file != "what_if.py",
                                     expect="[data-testid='stForm']" if page_file == "what_if.py" else None)
                info["seconds"] = round(time.perf_counter() - started, 2)
                shot = out_dir / f"{Path(page_file).stem}.png"
                tab.screenshot(path=str(shot))
                info["screenshot"] = str(shot)
                results[page_file] = info
        finally:
            browser.close()
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="screenshots of every explorer page")
    parser.add_argument("out_dir")
    parser.add_argument("--home", help="an LLIF_HOME with a warehouse (default: a made-up one)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(args.home) if args.home else Path(tmp)
        if not args.home:
            from explorer.sample import build_sample_home

            build_sample_home(home)
        os.environ["LLIF_HOME"] = str(home)
        from explorer import auth

        login = ("screenshots", secrets.token_urlsafe(16))  # a throwaway account for the walk
        auth.add_account(login[0], login[1], auth.CARE_MANAGER, replace=True)
        port = free_port()
        proc = serve(home, port)
        try:
            wait_healthy(port, proc)
            for name, info in capture(f"http://127.0.0.1:{port}", Path(args.out_dir), login=login).items():
                print(name, {k: v for k, v in info.items() if k != "text"})
        finally:
            stop(proc)
            auth.remove_account(login[0])


if __name__ == "__main__":
    main()
