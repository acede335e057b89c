"""The planners' explorer: ``streamlit run explorer/app.py`` (the warehouse comes from LLIF_HOME).

Why Streamlit's own navigation (``st.navigation``) rather than a ``pages/`` folder: the page
order and plain titles are set here in one list, and each page is still a plain script that
Streamlit's testing harness can run on its own (``tests/integration/test_explorer_app.py``). It is also the
login's gate (``explorer/auth.py``): a visitor who has not logged in is given only the login
page, a planner only the planners' pages, so no other page can be opened by its address.
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
    ("commissioning.py", "Commissioning", ":material/handshake:"),
    ("long_range.py", "Long range", ":material/timeline:"),
    ("what_if.py", "Build a what-if", ":material/tune:"),
    ("data_quality.py", "Data quality", ":material/fact_check:"),
]
# restricted pages: care managers only (every person shown is audited)
CARE_MANAGER_PAGES = [
    ("outlooks.py", "Individual outlooks", ":material/person_search:"),
]


def main() -> None:
    from explorer import auth

    st.set_page_config(page_title="llif explorer", page_icon=":material/water:", layout="wide")
    user = auth.current_user()
    if user is None:
        # every page's address leads to the login until the visitor has logged in, and the page
        # asked for opens after it (no page of figures runs before)
        login = [st.Page(auth.login_page, title="Log in", icon=":material/login:", url_path="login", default=True)]
        login += [st.Page(auth.login_page, title="Log in", url_path=Path(f).stem)
                  for f, _, _ in PAGES[1:] + CARE_MANAGER_PAGES]
        st.navigation(login, position="hidden").run()
        return
    allowed = PAGES + (CARE_MANAGER_PAGES if user.may_see_people else [])
    pages = [st.Page(HERE / "views" / f, title=t, icon=i, default=(n == 0)) for n, (f, t, i) in enumerate(allowed)]
    nav = st.navigation(pages)
    with st.sidebar:
        st.caption("llif explorer: what the nightly run found and forecast, in plain words. "
                   "Figures are those of the last complete night.")
        st.caption(f"Logged in as **{user.name}** ({auth.ROLE_LABELS[user.role]}).")
        st.button("Log out", on_click=auth.logout, key="logout")
    nav.run()


if __name__ == "__main__":  # streamlit runs this file as __main__; importing it (for PAGES) runs nothing
    main()
