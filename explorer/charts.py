"""Plotly figures shared by the app and the printed report.

Why shared: the report is read by people who never open the app, and both must show the same
picture of the same numbers. Builders take small, already-aggregated frames and return figures;
they never query.

Conventions: the likely ranges of a forecast are nested bands (95% palest, 50% darkest) around
a median line; what has already happened is drawn in black; places available are a dashed
vermillion line. Colours come from ``words`` (Okabe-Ito).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from explorer import words

BLUE = words.OKABE_ITO["blue"]
VERMILLION = words.OKABE_ITO["vermillion"]
ORANGE = words.OKABE_ITO["orange"]


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def style(fig: go.Figure, title: str, y_title: str, x_title: str | None = None, height: int = 460) -> go.Figure:
    fig.update_layout(
        template="plotly_white",
        title={"text": title, "x": 0, "xanchor": "left"},
        colorway=words.SEQUENCE,
        font={"size": 14},
        height=height,
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        legend={"orientation": "h", "yanchor": "top", "y": -0.12, "xanchor": "left", "x": 0},
        hovermode="x unified",
    )
    fig.update_yaxes(title_text=y_title, rangemode="tozero")
    if x_title is not None:
        fig.update_xaxes(title_text=x_title)
    return fig


def add_fan(fig: go.Figure, df: pd.DataFrame, name: str, colour: str = BLUE, show_bands: bool = True) -> go.Figure:
    """Median line with 95%, 80% and 50% likely ranges (palest to darkest)."""
    df = df.sort_values("month")
    if show_bands:
        for lo, hi, alpha, label in (("lo95", "hi95", 0.12, "95 in 100 runs"), ("lo80", "hi80", 0.2, "80 in 100 runs"),
                                     ("lo50", "hi50", 0.32, "half the runs")):
            if df[lo].isna().all() or df[hi].isna().all():
                continue
            fig.add_trace(go.Scatter(x=df["month"], y=df[hi], mode="lines", line={"width": 0},
                                     showlegend=False, hoverinfo="skip", legendgroup=f"{name}{lo}"))
            fig.add_trace(go.Scatter(x=df["month"], y=df[lo], mode="lines", line={"width": 0}, fill="tonexty",
                                     fillcolor=_rgba(colour, alpha), name=f"{name}: likely range ({label})",
                                     legendgroup=f"{name}{lo}", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=df["month"], y=df["median"], mode="lines", line={"color": colour, "width": 2.5},
                             name=f"{name}: middle estimate"))
    return fig


def fan_chart(forecast: pd.DataFrame, title: str, unit: str, history: pd.DataFrame | None = None,
              available: pd.DataFrame | None = None, needed: pd.DataFrame | None = None) -> go.Figure:
    """The forecast of one measure, with what happened before and, when known, places available and needed."""
    fig = go.Figure()
    if history is not None and len(history):
        fig.add_trace(go.Scatter(x=history["month"], y=history["value"], mode="lines",
                                 line={"color": "#000000", "width": 2}, name="What happened"))
    if needed is not None and len(needed):
        add_fan(fig, needed, "Needed (unlimited places)", ORANGE, show_bands=False)
    if len(forecast):
        add_fan(fig, forecast, "Forecast", BLUE)
    if available is not None and len(available):
        fig.add_trace(go.Scatter(x=available["month"], y=available["value"], mode="lines",
                                 line={"color": VERMILLION, "width": 2, "dash": "dash"}, name="Places available"))
    return style(fig, title, unit)


def lines(df: pd.DataFrame, x: str, series: dict[str, str], title: str, unit: str,
          colours: dict[str, str] | None = None) -> go.Figure:
    fig = go.Figure()
    for i, (label, col) in enumerate(series.items()):
        colour = (colours or {}).get(label, words.SEQUENCE[i % len(words.SEQUENCE)])
        fig.add_trace(go.Scatter(x=df[x], y=df[col], mode="lines", name=label, line={"color": colour, "width": 2}))
    return style(fig, title, unit)


def lines_by(df: pd.DataFrame, x: str, y: str, by: str, labels, title: str, unit: str,
             colours: dict[str, str] | None = None) -> go.Figure:
    fig = go.Figure()
    for i, (key, part) in enumerate(df.groupby(by, sort=True)):
        colour = (colours or {}).get(key, words.SEQUENCE[i % len(words.SEQUENCE)])
        fig.add_trace(go.Scatter(x=part[x], y=part[y], mode="lines", name=labels(key), line={"color": colour, "width": 2}))
    return style(fig, title, unit)


def sankey(flows: pd.DataFrame, title: str) -> go.Figure:
    """Moves from last month's state (left) to this month's (right)."""
    left = [s for s in words.STATES if s in set(flows["source"])]
    right = [s for s in words.STATES if s in set(flows["target"])]
    labels = [f"{words.state(s)} (before)" for s in left] + [f"{words.state(s)} (after)" for s in right]
    colours = [words.STATE_COLOURS[s] for s in left] + [words.STATE_COLOURS[s] for s in right]
    li = {s: i for i, s in enumerate(left)}
    ri = {s: len(left) + i for i, s in enumerate(right)}
    fig = go.Figure(go.Sankey(
        arrangement="snap",
        node={"label": labels, "color": colours, "pad": 14, "thickness": 16, "line": {"color": "#444", "width": 0.5}},
        link={"source": [li[s] for s in flows["source"]], "target": [ri[t] for t in flows["target"]],
              "value": flows["people"].tolist(), "color": [_rgba(words.STATE_COLOURS[s], 0.35) for s in flows["source"]],
              "hovertemplate": "%{source.label} to %{target.label}: %{value:,} moves<extra></extra>"},
    ))
    fig.update_layout(template="plotly_white", title={"text": title, "x": 0}, font={"size": 13}, height=560,
                      margin={"l": 10, "r": 10, "t": 60, "b": 10})
    return fig


def heatmap(df: pd.DataFrame, title: str) -> go.Figure:
    """Share of places in use, one row per scheme or home, one column per month."""
    df = df.copy()
    df["label"] = df["scheme_name"].str.title() + " (" + df["scheme_type"].map(words.scheme_type) + ")"
    order = (df.drop_duplicates("label").sort_values(["scheme_type", "scheme_name"], ascending=[False, False])["label"].tolist())
    grid = df.pivot_table(index="label", columns="month", values="occupancy_rate", aggfunc="mean").reindex(order)
    fig = go.Figure(go.Heatmap(
        z=(grid.values * 100).round(1), x=list(grid.columns), y=list(grid.index), colorscale=words.HEAT_SCALE,
        zmin=70, zmax=100, colorbar={"title": "% in use"},
        hovertemplate="%{y}<br>%{x|%B %Y}: %{z}% of places in use<extra></extra>",
    ))
    fig = style(fig, title, "", height=max(360, 22 * len(order) + 120))
    fig.update_layout(hovermode="closest")
    fig.update_yaxes(rangemode="normal", tickfont={"size": 11})
    return fig


def stacked_bars(df: pd.DataFrame, x: str, y: str, colour_by: str, labels, colours: dict, title: str, unit: str,
                 x_labels=None, horizontal: bool = False) -> go.Figure:
    fig = go.Figure()
    for key, part in df.groupby(colour_by, sort=False):
        xs = part[x].map(x_labels) if x_labels else part[x]
        kw = {"x": part[y], "y": xs, "orientation": "h"} if horizontal else {"x": xs, "y": part[y]}
        fig.add_trace(go.Bar(name=labels(key), marker_color=colours.get(key, words.OKABE_ITO["grey"]), **kw))
    fig.update_layout(barmode="stack")
    fig = style(fig, title, "" if horizontal else unit, unit if horizontal else None, height=460)
    fig.update_layout(hovermode="closest")
    return fig


def scenario_colour(name: str, names) -> str:
    """The same colour for a scenario on every chart: the baseline blue, the others in name order."""
    if name == "baseline":
        return BLUE
    others = sorted(n for n in set(names) if n != "baseline")
    return words.SEQUENCE[1 + others.index(name) % (len(words.SEQUENCE) - 1)]


def differences(df: pd.DataFrame, title: str, unit: str) -> go.Figure:
    """Each scenario's paired difference from the baseline, with the interval of the mean difference."""
    fig = go.Figure()
    for scen, part in df.groupby("scenario", sort=True):
        part = part.sort_values("month")
        colour = scenario_colour(scen, df["scenario"])
        lo, hi = ("lo95", "hi95") if part["mean_lo"].isna().all() else ("mean_lo", "mean_hi")
        if not part[lo].isna().all():
            fig.add_trace(go.Scatter(x=part["month"], y=part[hi], mode="lines", line={"width": 0}, showlegend=False,
                                     hoverinfo="skip", legendgroup=scen))
            fig.add_trace(go.Scatter(x=part["month"], y=part[lo], mode="lines", line={"width": 0}, fill="tonexty",
                                     fillcolor=_rgba(colour, 0.2), showlegend=False, hoverinfo="skip", legendgroup=scen))
        fig.add_trace(go.Scatter(x=part["month"], y=part["mean"], mode="lines", line={"color": colour, "width": 2.5},
                                 name=words.scenario(scen), legendgroup=scen))
    fig.add_hline(y=0, line={"color": "#000", "width": 1})
    fig = style(fig, title, f"difference from baseline ({unit})")
    fig.update_yaxes(rangemode="normal")
    return fig


def compare_fans(summary: pd.DataFrame, title: str, unit: str) -> go.Figure:
    """Several scenarios' middle estimates and 80% ranges on one chart (what-if beside the baseline)."""
    fig = go.Figure()
    for scen, part in summary.groupby("scenario", sort=False):
        colour = scenario_colour(scen, summary["scenario"])
        part = part.sort_values("month")
        fig.add_trace(go.Scatter(x=part["month"], y=part["hi80"], mode="lines", line={"width": 0}, showlegend=False,
                                 hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=part["month"], y=part["lo80"], mode="lines", line={"width": 0}, fill="tonexty",
                                 fillcolor=_rgba(colour, 0.2), name=f"{words.scenario(scen)}: likely range (80 in 100 runs)",
                                 hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=part["month"], y=part["median"], mode="lines", line={"color": colour, "width": 2.5},
                                 name=f"{words.scenario(scen)}: middle estimate"))
    return style(fig, title, unit)


def tornado(rows: pd.DataFrame, title: str) -> go.Figure:
    """One bar per unit cost from the cost at its low to its high price, widest on top, around a
    line at the forecast's own cost: which prices the budget is most exposed to."""
    rows = rows.sort_values("swing")
    centre = float(rows["cost_forecast"].iloc[0]) if len(rows) else 0.0
    fig = go.Figure()
    for col, colour, name in (("cost_low", BLUE, "at the low price"), ("cost_high", VERMILLION, "at the high price")):
        fig.add_trace(go.Bar(y=rows["label"], x=rows[col] - centre, base=centre, orientation="h", marker_color=colour,
                             name=name, customdata=rows[[col]].to_numpy(), hovertemplate="%{y}: £%{customdata[0]:,.0f}"))
    fig.add_vline(x=centre, line={"color": "#000", "width": 1})
    fig.update_layout(barmode="overlay")
    fig = style(fig, title, "", "£ in the year", height=max(300, 70 + 48 * len(rows)))
    fig.update_layout(hovermode="closest")
    fig.update_xaxes(rangemode="normal")
    return fig


def block_spot_costs(rows: pd.DataFrame, title: str) -> go.Figure:
    """Per block size, the year's cost stacked as block beds, spot and out-of-area placements
    (the runs' averages), with the 80% range of the total: where buying more as a block stops
    paying for itself."""
    wide = rows.pivot_table(index="block_beds", columns="measure", values="mean", aggfunc="first").sort_index()
    band = rows[rows["measure"] == "cost_total"].set_index("block_beds").sort_index()
    x = [f"{b:,.0f} beds" for b in wide.index]
    fig = go.Figure()
    for measure, colour, name in (("cost_block", BLUE, "block beds (paid whether used)"),
                                  ("cost_spot", words.OKABE_ITO["sky_blue"], "spot placements in the area"),
                                  ("cost_out_of_area", VERMILLION, "placements out of the area")):
        fig.add_trace(go.Bar(x=x, y=wide[measure], name=name, marker_color=colour,
                             hovertemplate="%{x}: £%{y:,.0f}"))
    fig.add_trace(go.Scatter(x=x, y=band["mean"], mode="markers", marker={"color": "#000", "size": 6},
                             name="total (80 in 100 runs between the whiskers)",
                             error_y={"type": "data", "symmetric": False, "array": band["hi80"] - band["mean"],
                                      "arrayminus": band["mean"] - band["lo80"]}))
    fig.update_layout(barmode="stack")
    return style(fig, title, "£ in the year", "beds bought as a block")


COMPONENT_COLOURS = {"rates": words.OKABE_ITO["sky_blue"], "demography": words.OKABE_ITO["orange"],
                     "scenario": words.OKABE_ITO["purple"]}


def decomposition(rows: pd.DataFrame, title: str, unit: str, names: dict[str, str]) -> go.Figure:
    """Per horizon year, the change from the first forecast year split into its parts (bars
    stacked up and down from zero), with the total change as a marker: how much of the change
    in demand comes from today's rates and trends, from the growing population and from the
    scenario."""
    fig = go.Figure()
    years = sorted(set(rows["year"]))
    x = [f"Year {y}" for y in years]
    for comp, colour in COMPONENT_COLOURS.items():
        part = rows[rows["component"] == comp].set_index("year").reindex(years)
        if part["mean"].abs().max() > 0:
            fig.add_trace(go.Bar(x=x, y=part["mean"].tolist(), name=names[comp], marker_color=colour,
                                 hovertemplate="%{x}: %{y:,.0f}"))
    total = rows[rows["component"] == "total"].set_index("year").reindex(years)
    fig.add_trace(go.Scatter(x=x, y=total["mean"].tolist(), mode="markers", marker={"color": "#000", "size": 9,
                                                                            "symbol": "diamond"},
                             name=names["total"], error_y={"type": "data", "symmetric": False,
                                                           "array": (total["p90"] - total["mean"]).tolist(),
                                                           "arrayminus": (total["mean"] - total["p10"]).tolist()}))
    fig.add_hline(y=0, line={"color": "#000", "width": 1})
    fig.update_layout(barmode="relative")
    fig = style(fig, title, f"change from the first year ({unit})", "years ahead")
    fig.update_yaxes(rangemode="normal")
    return fig
