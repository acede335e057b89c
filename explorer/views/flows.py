"""Flows: how people moved between homes, care, hospital and hospice, by group and period."""

import pandas as pd
import streamlit as st

from explorer import charts, ui, words

ui.page("Flows",
        "How people moved between their homes, care homes, hospital and hospice. Each band joins where people "
        "were at the end of one month (left) to where they were at the end of the next (right); its width is "
        "the number of moves.")

opts = ui.load("flow_options")
months = pd.date_range(opts["first"], opts["last"], freq="MS")
months = months[-120:]  # the last ten years
labels = [m.strftime("%b %Y") for m in months]
default_start = labels[max(0, len(labels) - 12)]
c1, c2, c3 = st.columns([2, 1, 1])
start_l, end_l = c1.select_slider("Period", options=labels, value=(default_start, labels[-1]), key="flows_period")
segments = opts["segments"]
if segments:
    segment = c2.selectbox("Group of people", [None] + segments, format_func=lambda s: "Everyone" if s is None else s,
                           key="flows_segment")
else:
    segment = None
    c2.selectbox("Group of people", ["Everyone"], disabled=True, key="flows_segment_off",
                 help="Groups appear once the nightly modelling step has run.")
area = c3.selectbox("Area", [None] + opts["areas"], format_func=lambda a: "All areas" if a is None else a, key="flows_area")
stayers = st.toggle("Include people who stayed where they were", value=False, key="flows_stayers")
if not segments:
    st.caption(f"{ui.NO_SEGMENTS[0]} {ui.NO_SEGMENTS[1]}")

start, end = months[labels.index(start_l)], months[labels.index(end_l)]
flows = ui.load("flows", start=start.date().isoformat(), end=end.date().isoformat(), segment=segment, area=area,
                include_stayers=stayers)
who = "everyone" if segment is None else segment.lower()
where = "all areas" if area is None else area
if not len(flows):
    ui.missing("No moves match these choices.", "Widen the period, or choose another group or area.")
else:
    fig = charts.sankey(flows, f"Moves from {start_l} to {end_l}: {who}, {where}")
    table = flows.assign(**{"From": flows["source"].map(words.state), "To": flows["target"].map(words.state)})
    ui.chart(fig, "each band is people moving from one place (left) to another (right) between one month's end and the "
             "next; wider bands are more moves. People who move twice in the period are counted twice.",
             table[["From", "To", "people"]].rename(columns={"people": "Moves"}), f"flows_{start_l}_{end_l}_{who}_{where}",
             unit="moves (person-months)")
    total = int(flows["people"].sum())
    top = table.head(5)
    st.markdown(f"**{total:,} moves** in the period. The most common:")
    for _, r in top.iterrows():
        st.markdown(f"- {r['From']} to {r['To'].lower()}: {int(r['people']):,}")
