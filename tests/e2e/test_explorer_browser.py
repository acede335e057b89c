"""The explorer in a real browser: headless Chromium against ``streamlit run`` on localhost.

Streamlit's test harness never runs the browser side, where Plotly draws; this test does. It
serves the app on a free port (with a made-up warehouse), opens every page, checks each chart
was drawn as SVG and no page shows an error, runs one what-if through the form, and saves a
screenshot of every page (``explorer.screenshots`` makes the docs' pictures the same way).

Needs Chromium from the system: ``apt-get install -y chromium`` (skipped when it is absent).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from explorer import screenshots
from explorer.app import PAGES
from explorer.sample import build_sample_home

from helpers.paths import ROOT

pytestmark = pytest.mark.skipif(not Path(screenshots.CHROMIUM).exists(), reason="no Chromium: apt-get install -y chromium")


# The app as `make ui` serves it, but the engine's inputs come from a small made-up population
# (the made-up warehouse has no history the engine could learn from), and saved scenarios go to
# a temporary folder.
WRAPPER = """
import runpy, sys
sys.path.insert(0, {root!r})
import explorer.forecasting as forecasting
try:
    from simulation.testing import toy_inputs
except ImportError:
    toy_inputs = None
if toy_inputs is not None and not hasattr(forecasting, "_test_inputs"):
    forecasting._test_inputs = toy_inputs(1500, seed=5)
    forecasting._inputs_for = lambda warehouse: forecasting._test_inputs
forecasting.scenarios_dir = lambda: __import__("pathlib").Path({scenarios!r})
runpy.run_path({app!r}, run_name="__main__")
"""


PASSWORD = "browser test password"
ACCOUNTS = {"pat": "planner", "cam": "care_manager"}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("explorer_browser")
    build_sample_home(tmp / "home")
    with pytest.MonkeyPatch.context() as mp:  # the accounts file lives in that home
        mp.setenv("LLIF_HOME", str(tmp / "home"))
        from explorer import auth

        for name, role in ACCOUNTS.items():
            auth.add_account(name, PASSWORD, role)
    script = tmp / "serve_explorer.py"
    script.write_text(textwrap.dedent(WRAPPER.format(root=str(ROOT), scenarios=str(tmp / "scenarios"),
                                                     app=str(screenshots.APP))))
    port = screenshots.free_port()
    proc = screenshots.serve(tmp / "home", port, script=script)
    try:
        screenshots.wait_healthy(port, proc, timeout=90)
        yield f"http://127.0.0.1:{port}", tmp
    finally:
        screenshots.stop(proc)


@pytest.mark.timeout(300)
def test_every_page_draws_its_charts_in_chromium(served):
    base, tmp = served
    results = screenshots.capture(base, tmp / "shots", login=("pat", PASSWORD))
    assert set(results) == {p for p, _, _ in PAGES}
    for page, info in results.items():
        assert info["exceptions"] == 0, page
        assert "Traceback" not in info["text"] and "Error" not in info["text"][:200], page
        assert Path(info["screenshot"]).stat().st_size > 20_000, page
        if page != "what_if.py":
            assert info["charts"] >= 1 and info["drawn"] == info["charts"], (page, info)


@pytest.mark.timeout(300)
def test_a_what_if_runs_from_the_browser(served):
    from playwright.sync_api import sync_playwright

    base, tmp = served
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=screenshots.CHROMIUM, args=screenshots.CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.goto(f"{base}/what_if")
            screenshots.log_in(page, "pat", PASSWORD)
            screenshots.wait_for_page(page, expect_charts=False)
            page.get_by_label("Name").fill("Homeless growth from the browser")
            slider = page.locator("[data-testid='stSlider']", has_text="Growth in homeless referrals").get_by_role("slider")
            slider.focus()
            for _ in range(10):
                slider.press("ArrowRight")
            page.get_by_role("button", name="Check and run").click()
            page.wait_for_selector(".js-plotly-plot .main-svg", timeout=120_000)
            info = screenshots.wait_for_page(page, expect_charts=True, timeout_ms=120_000)
            assert info["drawn"] >= 1 and info["exceptions"] == 0
            assert "beside things as they are" in info["text"]
            page.screenshot(path=str(tmp / "shots" / "what_if_result.png"))
            page.get_by_role("button", name="Save as a scenario").click()
            page.wait_for_selector("text=Saved as", timeout=30_000)
        finally:
            browser.close()
    saved = tmp / "scenarios" / "homeless_growth_from_the_browser.yaml"
    assert saved.exists() and "annual_growth: 0.1" in saved.read_text()
    assert saved.read_text().startswith("# saved from the explorer by pat at ")


def _browser(p):
    return p.chromium.launch(executable_path=screenshots.CHROMIUM, args=screenshots.CHROMIUM_ARGS)


@pytest.mark.timeout(300)
def test_no_page_opens_without_a_login(served):
    from playwright.sync_api import sync_playwright

    base, _ = served
    with sync_playwright() as p:
        browser = _browser(p)
        try:
            for path in ("/", "/demand", "/what_if", "/outlooks"):
                page = browser.new_page()
                page.goto(base + path)
                page.wait_for_selector("[data-testid='stForm']", timeout=60_000)
                page.wait_for_timeout(500)
                text = page.inner_text("[data-testid='stMain']")
                assert "Please log in" in text, path
                assert page.locator(".js-plotly-plot").count() == 0 and page.locator("[data-testid='stSidebarNav']").count() == 0
                page.close()
            # a wrong password gets nowhere; the right one opens the page that was asked for
            page = browser.new_page()
            page.goto(base + "/demand")
            page.wait_for_selector("[data-testid='stForm']", timeout=60_000)
            page.get_by_label("User name").fill("pat")
            page.get_by_role("textbox", name="Password").fill("not it at all")
            page.get_by_role("button", name="Log in").click()
            page.wait_for_selector("text=do not match", timeout=30_000)
            screenshots.log_in(page, "pat", PASSWORD)
            page.wait_for_selector("h1:has-text('Demand')", timeout=60_000)
        finally:
            browser.close()


@pytest.mark.timeout(300)
def test_a_planner_cannot_open_the_outlooks_page_and_a_care_managers_views_are_audited(served):
    from playwright.sync_api import sync_playwright

    from explorer import audit

    base, tmp = served
    log = tmp / "home" / "audit" / "explorer_audit.sqlite"
    with sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1200})
            page.goto(base + "/outlooks")
            screenshots.log_in(page, "pat", PASSWORD)
            page.wait_for_timeout(1500)
            nav = page.inner_text("[data-testid='stSidebarNav']")
            assert "Individual outlooks" not in nav and "Overview" in nav
            assert "Individual outlooks" not in page.inner_text("[data-testid='stMain']")
            assert audit.views(log) == []

            page = browser.new_page(viewport={"width": 1400, "height": 1200})
            page.goto(base + "/outlooks")
            screenshots.log_in(page, "cam", PASSWORD)
            page.wait_for_selector("h1:has-text('Individual outlooks')", timeout=60_000)
            page.wait_for_selector("[data-testid='stDataFrame']", timeout=60_000)
            page.screenshot(path=str(tmp / "outlooks.png"))
        finally:
            browser.close()
    views = audit.views(log)
    assert len(views) == 25 and {v["user_name"] for v in views} == {"cam"}
    assert {v["role"] for v in views} == {"care_manager"} and {v["action"] for v in views} == {"list"}
