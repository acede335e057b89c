"""The nightly report: one self-contained HTML file that prints well and needs no server.

    from explorer.report import build_report
    build_report(paths().warehouse, paths().reports)   # -> .../llif-report-2026-11-01.html

Why HTML first, and the PDF printed from it: the charts stay interactive on screen (hover for
figures) and the file opens anywhere; Plotly's JavaScript is embedded once, so it works offline
(about 5 MB). ``print_pdf`` then has headless Chromium (the system package the browser tests
use) print that same file to PDF, A4 landscape, for those who file or e-mail reports: one
source for both, so the PDF is exactly what the HTML shows.

The report reuses the app's loaders, sentences and figures (``data``, ``insights``,
``charts``): what a reader prints is what a planner sees. Sections whose data is missing say so
and what to run, as the pages do.

    .venv/bin/python -m explorer.report [WAREHOUSE] [OUT_DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
from pathlib import Path

import pandas as pd
import plotly.io as pio

from explorer import charts, data, insights, words

KEY_SERVICES = ("extra_care", "residential_care", "nursing_care", "temporary")
KEY_MEASURES = ("waiting_extra_care", "waiting_residential_care", "waiting_nursing_care", "delayed_discharges",
                "occupied_extra_care_flats", "cost_total")

CSS = """
body { font-family: "Segoe UI", Arial, sans-serif; max-width: 1100px; margin: 2em auto; color: #111; line-height: 1.45; }
h1 { font-size: 1.9em; margin-bottom: 0.1em; } h2 { border-bottom: 2px solid #0072B2; padding-bottom: 0.2em; margin-top: 1.6em; }
.meta { color: #555; } .reading { color: #333; font-size: 0.92em; margin: 0.2em 0 1.4em 0; }
.missing { background: #EEF6FB; border-left: 4px solid #56B4E9; padding: 0.6em 1em; }
table { border-collapse: collapse; margin: 0.5em 0 1.2em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; } th { background: #f2f2f2; }
td.num { text-align: right; } .chance { font-weight: 600; }
.figure { page-break-inside: avoid; break-inside: avoid; }
@page { size: A4 landscape; margin: 12mm; }
@media print { body { margin: 0; max-width: none; } .modebar-container { display: none; } h2 { page-break-before: auto; } .figure { page-break-inside: avoid; } h2.area { page-break-before: always; } }
"""


class _Doc:
    def __init__(self):
        self.parts: list[str] = []
        self._js_done = False

    def h(self, level: int, text: str, cls: str | None = None) -> None:
        self.parts.append(f"<h{level}{' class=' + repr(cls) if cls else ''}>{html.escape(text)}</h{level}>")

    def p(self, text: str, cls: str | None = None) -> None:
        self.parts.append(f"<p{' class=' + repr(cls) if cls else ''}>{html.escape(text)}</p>")

    def missing(self, what: str, todo: str) -> None:
        self.parts.append(f"<div class='missing'><strong>{html.escape(what)}</strong><br>{html.escape(todo.replace('`', ''))}</div>")

    def items(self, rows: list[str]) -> None:
        self.parts.append("<ul>" + "".join(f"<li>{r}</li>" for r in rows) + "</ul>")

    def figure(self, fig, reading: str, unit: str | None = None) -> None:
        fig.update_layout(width=1000)
        body = pio.to_html(fig, full_html=False, include_plotlyjs=not self._js_done,
                           config={"displaylogo": False, "responsive": True})
        self._js_done = True
        unit_text = f" Units: {html.escape(unit)}." if unit else ""
        self.parts.append(f"<div class='figure'>{body}<p class='reading'><strong>What this shows:</strong> "
                          f"{html.escape(reading)}{unit_text}</p></div>")

    def table(self, df: pd.DataFrame) -> None:
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
        rows = []
        for r in df.itertuples(index=False):
            cells = []
            for v in r:
                if isinstance(v, float):
                    cells.append(f"<td class='num'>{v:,.1f}</td>")
                elif isinstance(v, int):
                    cells.append(f"<td class='num'>{v:,}</td>")
                else:
                    cells.append(f"<td>{html.escape(str(v))}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        self.parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")

    def render(self, title: str) -> str:
        return (f"<!DOCTYPE html><html lang='en-GB'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
                f"<style>{CSS}</style></head><body>{''.join(self.parts)}</body></html>")


NO_FORECAST = "No forecast has been made yet."
NO_FORECAST_TODO = "Run the nightly refresh (make ui, then the nightly_refresh job, or make demo) to make one."


def build_report(warehouse_path: Path | str, out_dir: Path | str) -> Path:
    """Write tonight's report into ``out_dir`` and return its path (the warehouse is only read)."""
    warehouse_path, out_dir = Path(warehouse_path), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ov = data.overview(warehouse_path)
    month = pd.Timestamp(ov["month"]["month_start"].iloc[0])
    cat = data.forecast_catalogue(warehouse_path)
    has_forecast = len(cat) > 0
    doc = _Doc()
    today = dt.date.today()
    doc.h(1, "llif: tonight's planning report")
    doc.p(f"Figures to the end of {words.month(month)}; report made {today:%d %B %Y}. Every forecast figure comes with "
          "the range it is likely to fall in, from many runs of the forecast.", "meta")

    # ---- headlines
    doc.h(2, "Headlines")
    groups = insights.headline_groups(ov.get("statements"))
    if groups:
        for title, items in groups:
            doc.h(3, title)
            doc.items([(f"<span class='chance'>{html.escape(c[0].upper() + c[1:])}:</span> " if c else "") + html.escape(t)
                       for c, t in items])
    else:
        doc.missing(NO_FORECAST, NO_FORECAST_TODO)
    doc.h(3, "Where things stand now")
    doc.items([html.escape(f) for f in insights.facts(ov)])

    # ---- cost
    cost = ov.get("cost")
    if cost is not None and len(cost):
        doc.h(2, "Cost")
        sentence = insights.cost_sentence(cost)
        if sentence:
            doc.p(sentence)
        doc.figure(charts.fan_chart(cost, "Forecast monthly cost of care and support", "£ a month"),
                   "the middle estimate of each month's cost with the range it is likely to fall in "
                   "(darker: half the runs; paler: 80 and 95 in 100 runs).", "pounds a month, 2024-25 prices")
        fy = insights.cost_by_financial_year(cost)
        doc.table(pd.DataFrame({"Financial year": fy["financial_year"], "Months forecast": fy["months"].astype(int),
                                "Average of the runs": fy["middle_estimate"].map(words.money)}))

    # ---- demand
    doc.h(2, "Demand against places")
    history = data.demand_history(warehouse_path)
    stock = data.state_stock_history(warehouse_path)
    summary = data.forecast_summary(warehouse_path, ("baseline", "unconstrained")) if has_forecast else \
        pd.DataFrame(columns=list(data.SUMMARY_COLUMNS))
    if not has_forecast:
        doc.missing(NO_FORECAST, NO_FORECAST_TODO + " Until then the charts show what happened only.")
    for service in KEY_SERVICES:
        parts = insights.demand_series(history, stock, summary, service)
        if not len(parts["history"]) and not len(parts["forecast"]):
            continue
        fig = charts.fan_chart(parts["forecast"], f"{words.service(service)}: people in places", "people",
                               history=parts["history"], available=parts["available"] if len(parts["available"]) else None,
                               needed=parts["needed"] if len(parts["needed"]) else None)
        doc.figure(fig, "black is what happened; blue the forecast's middle estimate and likely range; orange what people "
                        "would need with unlimited places; dashed, the places we have.", "people (one person per place)")

    # ---- bottlenecks and delays
    doc.h(2, "Bottlenecks and delays")
    b = data.bottlenecks(warehouse_path, months=24)
    heat = b["heat"][b["heat"]["scheme_type"] != "general_needs"]
    if len(heat):
        doc.figure(charts.heatmap(heat, "Share of places in use at each month's end (last two years)"),
                   "each row a scheme or care home, each column a month; brighter is fuller; 95% or more is a bottleneck.",
                   "% of places in use")
    d = b["delays"]
    doc.figure(charts.lines(d, "month", {"Known hospital stays over three weeks": "n_long_stays",
                                         "People we know of in hospital at month end": "n_in_hospital_end"},
                            "Hospital stays and delays", "people"),
               "stays over three weeks are the closest measure of delayed discharge the sources allow.", "people a month")

    # ---- flows
    doc.h(2, "How people moved in the last year")
    opts = data.flow_options(warehouse_path)
    start = (opts["last"] - pd.DateOffset(months=11)).date()
    fl = data.flows(warehouse_path, start, opts["last"].date())
    if len(fl):
        doc.figure(charts.sankey(fl, f"Moves from {start:%b %Y} to {opts['last']:%b %Y}"),
                   "each band is people moving from one place (left) to another (right) between one month's end and the next.",
                   "moves")

    # ---- scenarios
    doc.h(2, "Scenarios compared with things as they are")
    diff = data.differences(warehouse_path)
    if not len(diff):
        doc.missing(NO_FORECAST if not has_forecast else "The forecast has no scenarios besides the baseline.",
                    NO_FORECAST_TODO if not has_forecast else "Save a scenario from the explorer's 'Build a what-if' page.")
    else:
        last = diff[diff["month"] == diff["month"].max()]
        rows = []
        for kpi in [k for k in KEY_MEASURES if k in set(last["kpi"])]:
            title, unit = words.measure(*data.split_kpi(kpi)[:2])
            for r in last[last["kpi"] == kpi].itertuples():
                lo, hi = (r.mean_lo, r.mean_hi) if pd.notna(r.mean_lo) else (r.lo95, r.hi95)
                rng = f"{lo:,.1f} to {hi:,.1f}" if pd.notna(lo) else ""
                rows.append({"Scenario": words.scenario(r.scenario), "Measure": title, "Unit": unit,
                             f"Difference by {words.month(r.month)}": float(r.mean), "Likely range of the difference": rng})
        if rows:
            doc.table(pd.DataFrame(rows))
        for kpi in [k for k in ("waiting_extra_care", "cost_total") if k in set(diff["kpi"])]:
            title, unit = words.measure(*data.split_kpi(kpi)[:2])
            doc.figure(charts.differences(diff[(diff["kpi"] == kpi) & (diff["scenario"] != "unconstrained")],
                                          f"{title}: difference from the baseline", unit),
                       "each scenario's average difference from things as they are, with the range the true average "
                       "difference is likely (95%) to lie in.", unit)

    # ---- block or spot
    block = data.block_spot(warehouse_path) if has_forecast else None
    if block is not None and len(block):
        doc.h(2, "Care-home beds: block or spot")
        base = block[(block["scenario"] == "baseline") & (block["area"] == "all")]
        for care in insights.BLOCK_CARE_TYPES:
            mine = base[base["care_type"] == care]
            for year in sorted(set(mine["year"]))[:2]:
                doc.p(html.escape(" ".join(insights.block_spot_sentences(mine[mine["year"] == year], care,
                                                                         "across all areas"))))
            first = mine[mine["year"] == mine["year"].min()]
            if len(first):
                doc.figure(charts.block_spot_costs(first, f"{insights.BLOCK_CARE_TYPES[care].capitalize()}, all areas, "
                                                          "year 1: the cost of each block size"),
                           "each bar is one size of block contract: the beds it pays for every week, the spot "
                           "placements bought when it is full, and the placements made in other areas when an area's "
                           "market has no free bed (prices and free beds are stated assumptions).",
                           "pounds in the year, 2024-25 prices")

    # ---- a page per area
    areas = data.forecast_group_options(warehouse_path)["areas"] if has_forecast else {}
    for code, name in areas.items():
        _area_page(doc, warehouse_path, code, name)

    # ---- data quality
    doc.h(2, "Data quality")
    dq = data.data_quality(warehouse_path)
    fr = dq.get("freshness")
    if fr is not None and len(fr):
        s = fr.groupby("system", as_index=False).agg(last=("last_loaded", "max"), rejected=("rows_rejected", "sum"))
        doc.table(pd.DataFrame({"Source": s["system"].map(lambda x: words.SYSTEM_LABELS.get(x, x)),
                                "Last read": pd.to_datetime(s["last"]).dt.strftime("%d %b %Y %H:%M"),
                                "Records set aside (all nights)": s["rejected"].astype(int)}))
    p = dq["people"].iloc[0]
    doc.p(f"{int(p['people']):,} people; {p['share_with_ni']:.0%} with a usable National Insurance number; "
          f"{p['share_in_several']:.0%} known to more than one system.")

    out = out_dir / f"llif-report-{month:%Y-%m}-{today:%Y%m%d}.html"
    out.write_text(doc.render(f"llif report, {words.month(month)}"), encoding="utf-8")
    return out


AREA_QUEUES = ("waiting_extra_care", "waiting_sheltered", "waiting_residential_care", "waiting_nursing_care",
               "delayed_discharges", "home_care_waiting")


def _area_page(doc: _Doc, warehouse_path: Path, code: str, name: str) -> None:
    """One area's page: where its queues are heading and the people it will have in each
    service, from its own forecast (counted person by person in every run)."""
    doc.h(2, f"{name}", "area")
    groups = data.forecast_groups(warehouse_path, area=code)
    if not len(groups):
        doc.missing(f"The forecast has no figures for {name}.", "Tonight's forecast kept no breakdown by area.")
        return
    lines = insights.group_sentences(groups, name)
    doc.items([html.escape(t) for t in lines] or
              [html.escape(f"No waiting list in {name} is forecast to pass a round number in 90 of 100 runs.")])
    queues = groups[groups["kpi"].isin(AREA_QUEUES) & (groups["scenario"] == "baseline")]
    if len(queues):
        doc.figure(charts.lines_by(queues, "month", "median", "kpi", lambda k: words.kpi(k)[0],
                                   f"{name}: waiting lists and delays, middle estimate", "people"),
                   f"each line is one of {name}'s queues as the forecast's middle estimate; counted for the people "
                   "of this area in every run, never a share of the provider's.", "people at the month's end")
    for service in ("extra_care", "residential_care", "nursing_care"):
        people = groups[(groups["kpi"] == f"people_{service}") & (groups["scenario"] == "baseline")]
        if len(people):
            doc.figure(charts.fan_chart(people, f"{name}: people in {words.service(service).lower()}", "people"),
                       "the middle estimate with the range the number is likely to fall in (darker: half the runs; "
                       "paler: 80 and 95 in 100 runs).", "people at the month's end")


CHROMIUM = "/usr/bin/chromium"


class PdfUnavailable(RuntimeError):
    """No PDF could be printed; ``str()`` says why and what to install or set."""


def print_pdf(html_path: Path | str, pdf_path: Path | str | None = None, chromium: str | None = None,
              timeout: float = 180) -> Path:
    """Print the report's HTML to PDF with headless Chromium; returns the PDF's path.

    Chromium runs in a process group of its own with a throwaway profile, so a stuck or
    interrupted print never leaves a browser behind (it is killed with its group).
    """
    import os
    import shutil
    import signal
    import subprocess
    import tempfile

    html_path = Path(html_path).resolve()
    pdf_path = Path(pdf_path) if pdf_path is not None else html_path.with_suffix(".pdf")
    browser = chromium or shutil.which("chromium") or CHROMIUM
    if not Path(browser).exists():
        raise PdfUnavailable("no Chromium to print the report's PDF with: install the system package "
                             "(`apt-get install -y chromium`); the HTML report was written")
    with tempfile.TemporaryDirectory(prefix="llif-pdf-") as profile:
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--disable-background-networking", "--disable-component-update", "--no-first-run",
               f"--user-data-dir={profile}", "--no-pdf-header-footer", "--virtual-time-budget=30000",
               "--run-all-compositor-stages-before-draw", f"--print-to-pdf={pdf_path.resolve()}", html_path.as_uri()]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=timeout)
        except BaseException:  # a timeout, or the run being stopped: take Chromium's whole group down
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # helpers Chromium left behind
            except ProcessLookupError:
                pass
    if proc.returncode != 0 or not pdf_path.exists() or pdf_path.stat().st_size == 0:
        tail = (out or b"").decode(errors="replace").strip().splitlines()[-3:]
        raise PdfUnavailable(f"Chromium ({browser}) could not print {html_path.name} to PDF "
                             f"(exit {proc.returncode}): {' | '.join(tail)}")
    return pdf_path


def main(argv: list[str] | None = None) -> None:
    from contracts.settings import paths

    parser = argparse.ArgumentParser(description="write tonight's planning report (HTML)")
    parser.add_argument("warehouse", nargs="?", default=None)
    parser.add_argument("out_dir", nargs="?", default=None)
    args = parser.parse_args(argv)
    p = paths()
    out = build_report(args.warehouse or p.warehouse, args.out_dir or p.reports)
    print(out)
    print(print_pdf(out))


if __name__ == "__main__":
    main()
