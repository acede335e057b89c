"""Compare scenarios: each scenario's difference from the baseline, with its interval."""

import pandas as pd
import streamlit as st

from explorer import charts, ui, words

ui.page("Compare scenarios",
        "Pick scenarios the nightly run has forecast and see how each differs from things as they are. "
        "Every scenario is run on the same simulated futures as the baseline, so the difference is the change itself, "
        "not chance.")

cat = ui.load("forecast_catalogue")
if not len(cat):
    ui.missing(*ui.NO_FORECAST)
    st.stop()
diff = ui.load("differences")
scenarios = sorted(s for s in set(cat["scenario"]) if s not in ("baseline", "unconstrained"))
if not scenarios:
    ui.missing("The forecast has no scenarios besides the baseline.",
               "Add a scenario file (the *Build a what-if* page can save one), and the next nightly run will include it.")
    st.stop()
c1, c2 = st.columns(2)
chosen = c1.multiselect("Scenarios", scenarios, default=scenarios[:2], format_func=words.scenario, key="compare_scenarios")
kpis = sorted(set(cat["kpi"]))
default = next((k for k in ("waiting_extra_care", "delayed_discharges", "cost_total") if k in kpis), kpis[0])


def _kpi_label(k: str) -> str:
    from explorer.data import split_kpi

    m, s, a = split_kpi(k)
    title, unit = words.measure(m, s)
    return title + (f" ({a})" if a else "")


kpi = c2.selectbox("What to compare", kpis, index=kpis.index(default), format_func=_kpi_label, key="compare_kpi")
if not chosen:
    st.info("Pick at least one scenario.")
    st.stop()
from explorer.data import split_kpi  # noqa: E402

title, unit = words.measure(*split_kpi(kpi)[:2])
d = diff[(diff["kpi"] == kpi) & diff["scenario"].isin(chosen)]
if len(d):
    fig = charts.differences(d, f"{title}: difference from the baseline", unit)
    ui.chart(fig, "each line is a scenario's average difference from things as they are, month by month; the shaded "
             "band is the range the true average difference is likely (95%) to lie in. Above zero means more.",
             d[["scenario", "month", "mean", "mean_lo", "mean_hi"]], f"compare_diff_{kpi}", unit=unit)
    last = d.sort_values("month").groupby("scenario").tail(1)
    rows = []
    for _, r in last.iterrows():
        lo, hi = (r["mean_lo"], r["mean_hi"]) if pd.notna(r["mean_lo"]) else (r["lo95"], r["hi95"])
        sure = "clearly" if pd.notna(lo) and (lo > 0 or hi < 0) else "not clearly"
        rows.append({"Scenario": words.scenario(r["scenario"]), "By": words.month(r["month"]),
                     "Difference": round(float(r["mean"]), 1), "Likely between": f"{lo:,.1f} and {hi:,.1f}" if pd.notna(lo) else "",
                     "Reading": f"{sure} {'more' if r['mean'] > 0 else 'less'} than the baseline"})
    ui.plain_table(pd.DataFrame(rows), f"compare_end_{kpi}")
else:
    ui.missing("The forecast holds no differences for this measure.", "Choose another measure above.")

groups_of = ui.load("forecast_group_options")
area = st.selectbox("Area", [None, *groups_of["areas"]], key="compare_area",
                    format_func=lambda a: "All areas" if a is None else groups_of["areas"][a]) if groups_of["areas"] else None
if area is None:
    s = ui.load("forecast_summary", scenarios=tuple(["baseline", *chosen]))
else:
    s = ui.load("forecast_groups", scenarios=tuple(["baseline", *chosen]), area=area)
    st.caption(f"Each scenario's forecast for {groups_of['areas'][area]}, counted person by person in every run. "
               "The differences above are the whole provider's.")
s = s[s["kpi"] == kpi]
if not len(s) and area is not None:
    ui.missing("This measure is not forecast by area.", "Choose 'All areas', or a measure about people (waiting lists, "
               "people in each service, admissions, cost to the council or the NHS).")
if len(s):
    where = "" if area is None else f" in {groups_of['areas'][area]}"
    fig = charts.compare_fans(s, f"{title}{where}: each scenario's forecast", unit)
    ui.chart(fig, "the middle estimate of each scenario with the range 80 in 100 runs fall in.",
             s[["scenario", "month", "median", "lo80", "hi80"]], f"compare_fans_{kpi}_{area or 'all'}", unit=unit)
