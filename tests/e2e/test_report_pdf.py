"""The nightly report as PDF: headless Chromium prints the HTML, and the pages are looked at as images.

Needs Chromium and poppler's pdftoppm/pdftotext from the system (``.ci/run`` installs both).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from explorer.report import PdfUnavailable, build_report, print_pdf
from explorer.sample import build_sample_warehouse

pytestmark = pytest.mark.skipif(not (shutil.which("chromium") and shutil.which("pdftoppm")),
                                reason="needs chromium and poppler-utils (apt-get install -y chromium poppler-utils)")


@pytest.fixture(scope="module")
def pdf(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("report_pdf")
    html = build_report(build_sample_warehouse(folder / "warehouse.duckdb"), folder / "reports")
    return print_pdf(html)


def _pages(pdf: Path, out: Path) -> list[Path]:
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(out / "page")], check=True)
    return sorted(out.glob("page-*.png"))


def test_the_pdf_has_the_reports_sections_in_order(pdf):
    assert pdf.suffix == ".pdf" and pdf.read_bytes()[:5] == b"%PDF-"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    headings = ["Headlines", "Cost", "Demand against places", "Bottlenecks and delays", "Scenarios compared",
                "block or spot", "Cardiff", "Data quality"]
    where = [text.find(h) for h in headings]
    assert -1 not in where, dict(zip(headings, where))
    assert where == sorted(where)
    assert "What this shows" in text


def test_every_page_is_drawn_and_the_charts_are_in_colour(pdf, tmp_path):
    from PIL import Image, ImageStat

    pages = _pages(pdf, tmp_path)
    assert len(pages) >= 4  # headlines, cost, demand's charts, the rest: not one squashed page
    coloured = 0
    for page in pages:
        img = Image.open(page).convert("RGB")
        assert img.width > img.height  # A4 landscape
        assert max(ImageStat.Stat(img.convert("L")).stddev) > 10, f"{page.name} is blank"
        # the charts' Okabe-Ito blue (#0072B2) and orange: drawn by Plotly's JavaScript before printing
        pixels = img.get_flattened_data() if hasattr(img, "get_flattened_data") else img.getdata()
        if sum(1 for r, g, b in pixels if b > 140 and r < 60 and 80 < g < 150) > 30:
            coloured += 1
    assert coloured >= 3, f"only {coloured} of {len(pages)} pages show chart colours: the charts did not draw"


def test_a_missing_browser_says_what_to_install(tmp_path):
    html = tmp_path / "r.html"
    html.write_text("<p>x</p>")
    with pytest.raises(PdfUnavailable, match="apt-get install -y chromium"):
        print_pdf(html, chromium="/nonexistent/chromium")
