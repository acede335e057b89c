"""Streamlit helpers every page uses: cached loading, friendly failures, charts with their reading.

Why here: each page should read as a list of questions answered, not as plumbing. The rules
the issue sets for every chart (a one-line reading, units, the data as CSV, the picture as
PNG) are kept in one function, ``chart``, so no page can forget one.

Caching: loaders in ``explorer.data`` are wrapped in ``st.cache_data`` keyed on the warehouse
path and ``data.stamp`` (its modification time), so a page switch costs nothing and the first
view after the nightly run sees the new figures. Failures are not cached.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from explorer import data

PLOTLY_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d"],
                 "toImageButtonOptions": {"format": "png", "scale": 2}}


def warehouse_path() -> Path:
    """The published copy of the last complete night (``warehouse.published``), never the
    warehouse the nightly run is writing: a reader can then neither block the writer nor land
    on a half-refreshed night. Tests may point a session at another file."""
    if "warehouse_path" in st.session_state:
        return Path(st.session_state["warehouse_path"])
    from contracts.settings import paths
    from warehouse.published import current

    p = paths()
    return current(p.published) or p.published / "(no complete night yet)" / "warehouse.duckdb"


@st.cache_data(show_spinner=False, max_entries=256)
def _cached(loader: str, path: str, stamp: int, kwargs: tuple):
    return getattr(data, loader)(path, **dict(kwargs))


def load(loader: str, **kwargs):
    """``data.<loader>(warehouse, **kwargs)``, cached until the warehouse changes.

    When the warehouse is missing or being written, the page says so and stops.
    """
    path = warehouse_path()
    try:
        return _cached(loader, str(path), data.stamp(path), tuple(sorted(kwargs.items())))
    except data.WarehouseBusy as exc:
        st.warning(str(exc), icon=":material/hourglass_top:")
        if st.button("Try again"):
            st.rerun()
        st.stop()
    except data.WarehouseUnavailable as exc:
        st.error(str(exc), icon=":material/database:")
        st.stop()


def page(title: str, intro: str) -> None:
    """Every page starts here: the visitor must be logged in (``explorer/auth.py``), then the title."""
    from explorer import auth

    auth.require(auth.PLANNER)
    st.title(title)
    st.markdown(intro)


def missing(what: str, next_step: str) -> None:
    """Say plainly what is missing and what to run next (never a stack trace)."""
    st.info(f"**{what}**\n\n{next_step}", icon=":material/info:")


NO_FORECAST = ("No forecast has been made yet.",
               "The forecast is made by the nightly refresh after the warehouse is built. Run it from "
               "the Dagster UI (`make ui`, then the *nightly_refresh* job) or, on a new machine, with "
               "`make demo`; then reload this page.")
NO_SEGMENTS = ("The groups of similar people (segments) have not been found yet.",
               "They are made by the nightly refresh's modelling step. Run the *nightly_refresh* job "
               "(`make ui`) or `make demo`; then reload this page.")


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text.lower()).strip("_")[:60] or "chart"


def chart(fig, reading: str, frame: pd.DataFrame, key: str, unit: str | None = None) -> None:
    """A chart with its one-line reading, its unit, and its data (CSV) and picture (PNG) to download."""
    config = {**PLOTLY_CONFIG, "toImageButtonOptions": {**PLOTLY_CONFIG["toImageButtonOptions"], "filename": _slug(key)}}
    st.plotly_chart(fig, config=config, key=f"chart_{key}", theme=None)
    unit_text = f" Units: {unit}." if unit else ""
    st.caption(f"**What this shows:** {reading}{unit_text} To save the picture, use the camera button above the chart.")
    st.download_button("Download the data (CSV)", frame.to_csv(index=False).encode(), file_name=f"{_slug(key)}.csv",
                       mime="text/csv", key=f"csv_{key}", icon=":material/download:")


def plain_table(df: pd.DataFrame, key: str, column_config: dict | None = None) -> None:
    st.dataframe(df, hide_index=True, column_config=column_config, key=f"table_{key}")
    st.download_button("Download this table (CSV)", df.to_csv(index=False).encode(), file_name=f"{_slug(key)}.csv",
                       mime="text/csv", key=f"tablecsv_{key}", icon=":material/download:")
