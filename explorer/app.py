"""The planners' explorer: ``streamlit run explorer/app.py`` (the warehouse comes from LLIF_HOME).

Why Streamlit's own navigation (``st.navigation``) rather than a ``pages/`` folder: the page
order and plain titles are set here in one list, and each page is still a plain script that
Streamlit's testing harness can run on its own (``tests/test_explorer_app.py``).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:  # `streamlit run explorer/app.py` puts explorer/ first, not the checkout
    sys.path.insert(0, str(HERE.parent))

import streamlit as st  # noqa: E402

PAGES = [
    ("overview.py", "Overview", ":material/home:"),
    ("demand.py", "Demand", ":material/trending_up:"),
    ("flows.py", "Flows", ":material/conversion_path:"),
    ("bottlenecks.py", "Bottlenecks and delays", ":material/hourglass_top:"),
    ("case_mix.py", "Case mix", ":material/groups:"),
    ("compare.py", "Compare scenarios", ":material/compare_arrows:"),
    ("what_if.py", "Build a what-if", ":material/tune:"),
    ("data_quality.py", "Data quality", ":material/fact_check:"),
]


def main() -> None:
    st.set_page_config(page_title="llif explorer", page_icon=":material/water:", layout="wide")
    pages = [st.Page(HERE / "views" / f, title=t, icon=i, default=(n == 0)) for n, (f, t, i) in enumerate(PAGES)]
    nav = st.navigation(pages)
    with st.sidebar:
        st.caption("llif explorer: what the nightly run found and forecast, in plain words. "
                   "Figures refresh when the nightly run finishes.")
    nav.run()


if __name__ == "__main__":  # streamlit runs this file as __main__; importing it (for PAGES) runs nothing
    main()
