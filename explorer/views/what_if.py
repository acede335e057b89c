"""Build a what-if: change places, rates, arrivals or costs, run a quick forecast, save it for tonight."""

import pandas as pd
import streamlit as st

from explorer import charts, forecasting, ui, whatif, words
from explorer.data import split_kpi

ui.page("Build a what-if",
        "Try a change (new places, fewer care-home moves, more homeless referrals, different costs), run a quick "
        "forecast with fewer runs than the nightly one, and see it beside things as they are. If it is worth keeping, "
        "save it: the next nightly run will include it with the full number of runs.")

opts = ui.load("flow_options")
first = (opts["last"] + pd.offsets.MonthBegin(1))
months = [m.strftime("%Y-%m") for m in pd.date_range(first, periods=60, freq="MS")]
status = forecasting.engine_status()
if status:
    ui.missing("Quick forecasts cannot be run here.", status)
else:
    forecasting.warm(ui.warehouse_path())

defaults = whatif.default_costs()
with st.form("whatif"):
    c1, c2 = st.columns([1, 2])
    name = c1.text_input("Name", placeholder="e.g. New extra care in Cardiff", key="wi_name")
    description = c2.text_input("What it tests, in a sentence", key="wi_description", max_chars=300)

    st.markdown("**Places**")
    p1, p2, p3, p4 = st.columns(4)
    cap_service = p1.selectbox("Kind of place", list(whatif.CAPACITY_SERVICES), format_func=whatif.CAPACITY_SERVICES.get,
                               key="wi_cap_service")
    cap_area = p2.selectbox("Area", list(whatif.AREAS), format_func=whatif.AREAS.get, key="wi_cap_area")
    cap_change = p3.number_input("Change in places (negative closes)", value=0, step=1, key="wi_cap_change")
    cap_start = p4.selectbox("From", months[:36], format_func=lambda m: pd.Timestamp(m + "-01").strftime("%B %Y"),
                             key="wi_cap_start")
    new_scheme = st.checkbox("As a new scheme or home (rather than more places in the ones we have)", key="wi_new_scheme")

    st.markdown("**How people move** (change from today's rates)")
    r1, r2, r3 = st.columns(3)
    ch_moves = r1.slider("Moves into care homes from home, people 65 and over", -50, 50, 0, format="%d%%",
                         key="wi_care_home_moves", help="-15% is what good reablement might achieve.")
    hosp = r2.slider("Emergency hospital admissions", -50, 50, 0, format="%d%%", key="wi_hospital")
    winter = r3.checkbox("Only in winter (December to February)", key="wi_winter")

    st.markdown("**Who arrives**")
    a1, a2, a3 = st.columns(3)
    homeless = a1.slider("Growth in homeless referrals, a year", -20, 50, 0, format="%d%%", key="wi_homeless")
    referrals = a2.slider("New home-care referrals", -50, 50, 0, format="%d%%", key="wi_referrals")
    cap_hours = a3.checkbox("Limit home-care hours by staff available", key="wi_cap_hours_on")
    hours_pct = a3.slider("Hours we can staff, as % of today's", 50, 150, 100, format="%d%%", key="wi_cap_hours")

    with st.expander("Costs (2024-25 prices; change any to test a different price)"):
        cost_cols = st.columns(4)
        costs = {}
        for i, (key, (label, _)) in enumerate(whatif.COSTS.items()):
            costs[key] = cost_cols[i % 4].number_input(f"{label} (£)", value=float(defaults[key]), step=5.0,
                                                       format="%.2f", key=f"wi_cost_{key}")

    s1, s2 = st.columns(2)
    runs = s1.select_slider("Runs (more is steadier but slower)", [10, 20, 50], value=10, key="wi_runs")
    horizon = s2.select_slider("Months ahead", [12, 24, 36], value=24, key="wi_months")
    submitted = st.form_submit_button("Check and run" if not status else "Check", type="primary")

if submitted:
    answers = whatif.WhatIf(
        name=name, description=description, capacity_service=cap_service, capacity_area=cap_area,
        capacity_change=cap_change, capacity_start=cap_start, capacity_new_scheme=new_scheme,
        care_home_moves_pct=ch_moves, hospital_admissions_pct=hosp, hospital_winter_only=winter,
        homeless_growth_pct=homeless, home_care_referrals_pct=referrals,
        home_care_hours_cap_pct=hours_pct if cap_hours else None, costs=costs, runs=int(runs), months=int(horizon))
    spec, errors = whatif.build(answers, months)
    st.session_state.pop("wi_saved", None)
    if errors:
        st.session_state.pop("wi_spec", None)
        st.error("Please correct these before running:\n\n" + "\n".join(f"- {e}" for e in errors), icon=":material/error:")
    else:
        st.session_state["wi_spec"] = spec
        st.session_state.pop("wi_result", None)
        if not status:
            try:
                with st.spinner(f"Running {runs} runs of {horizon} months, with and without the change..."):
                    st.session_state["wi_result"] = forecasting.run_what_if(ui.warehouse_path(), spec, int(runs), int(horizon))
            except forecasting.EngineUnavailable as exc:
                ui.missing("The quick forecast could not be run.", str(exc))
            except Exception as exc:  # the page must never show a stack trace to a planner
                st.error("The quick forecast failed. The what-if itself is valid and can still be saved for the nightly "
                         f"run. (For the support team: {type(exc).__name__}: {str(exc)[:300]})", icon=":material/error:")
        else:
            st.success("The what-if is valid. Save it below and the next nightly run will include it.")

spec = st.session_state.get("wi_spec")
result = st.session_state.get("wi_result")
if result is not None and spec is not None and result.name == spec["name"]:
    st.subheader(f"{words.scenario(result.name)} beside things as they are")
    st.caption(f"{result.runs} runs of {result.months} months, in {result.seconds:.1f} seconds. The nightly run uses more "
               "runs, so its ranges are steadier.")
    kpis = sorted(set(result.summary["kpi"]))
    changed = result.differences.groupby("kpi")["mean"].apply(lambda s: s.abs().max())
    preferred = [k for k in ("waiting_extra_care", "delayed_discharges", "cost_total") if k in kpis]
    order = list(changed.sort_values(ascending=False).index[:3]) + preferred
    default = next((k for k in order if k in kpis), kpis[0])

    def _label(k):
        m, s, a = split_kpi(k)
        return words.measure(m, s)[0] + (f" ({a})" if a else "")

    kpi = st.selectbox("Show", kpis, index=kpis.index(default), format_func=_label, key="wi_show")
    title, unit = words.measure(*split_kpi(kpi)[:2])
    s = result.summary[result.summary["kpi"] == kpi]
    fig = charts.compare_fans(s, f"{title}: the what-if beside the baseline", unit)
    ui.chart(fig, "the middle estimate with and without the change, each with the range 80 in 100 runs fall in.",
             s[["scenario", "month", "median", "lo80", "hi80"]], f"whatif_{kpi}", unit=unit)
    d = result.differences
    end = d[d["month"] == d["month"].max()]
    rows = []
    for k in [k for k in order if k in set(end["kpi"])][:6]:
        r = end[end["kpi"] == k].iloc[0]
        t, u = words.measure(*split_kpi(k)[:2])
        rows.append({"Measure": t, "Unit": u, f"Difference by {words.month(r['month'])}": round(float(r["mean"]), 1)})
    if rows:
        ui.plain_table(pd.DataFrame(rows), "whatif_differences")

if spec is not None:
    st.subheader("Save for the nightly run")
    st.code(whatif.to_yaml(spec), language="yaml")
    overwrite = st.checkbox("Replace it if a scenario of this name is already saved", key="wi_overwrite")
    if st.button("Save as a scenario", type="primary", key="wi_save"):
        try:
            from explorer import auth

            user = auth.current_user()
            path = forecasting.save_scenario(spec, overwrite=overwrite, author=user.name if user else None)
            st.session_state["wi_saved"] = str(path)
        except FileExistsError as exc:
            st.error(str(exc))
        except Exception as exc:
            st.error(f"The scenario could not be saved: {exc}")
    if st.session_state.get("wi_saved"):
        st.success(f"Saved as {st.session_state['wi_saved']}. The next nightly run will include it; "
                   "it will then appear on *Compare scenarios*.")
