"""Individual outlooks (care managers only): who is most likely to need a change of care soon.

Restricted: every person this page shows is written to the audit log (``explorer/audit.py``)
before it is drawn, with who looked, when, and on which night's figures. People appear by their
pseudonymous key only; names and identifiers never leave the warehouse's identity schema.
"""

import streamlit as st

from explorer import audit, auth, ui

user = auth.require(auth.CARE_MANAGER)
ui.page("Individual outlooks",
        "For each person in tonight's census, the chance of a care-home move, an emergency hospital stay and other "
        "changes within 12 months, from the champion models. **Restricted:** every person you view here is logged.")

path = ui.warehouse_path()
cols = ui.load("outlook_columns")
if not cols:
    ui.missing("No individual outlooks have been made yet.",
               "They are made by the nightly refresh's modelling step (asset *ml/person_outlooks*); reload this page "
               "after the next night.")
    st.stop()

LABELS = {"p_care_home_12m": "Care-home move", "p_hospital_12m": "Emergency hospital stay",
          "p_died_12m": "Dying", "p_need_rise_12m": "Care need rising", "p_tenancy_end_12m": "Tenancy ending"}


def _label(col: str) -> str:
    return LABELS.get(col, col.removeprefix("p_").replace("_", " ").capitalize())


c1, c2, c3 = st.columns([2, 2, 1])
order_by = c1.selectbox("Most likely within 12 months to face", cols, format_func=_label, key="ol_order")
segments = (ui.load("flow_options") or {}).get("segments") or []
segment = c2.selectbox("Group of people", [""] + list(segments), format_func=lambda s: s or "Everyone", key="ol_segment")
top = c3.selectbox("Show", [10, 25, 50], index=1, key="ol_top")

people = ui.load("person_outlooks", order_by=order_by, segment=segment or None, top=int(top))
night = path.parent.name


def _audited(action: str, keys: list[str]) -> bool:
    """Log the view once per change of what is shown; False (and a message) if it cannot be logged."""
    signature = (action, tuple(keys), night)
    if st.session_state.get(f"ol_logged_{action}") == signature:
        return True
    try:
        audit.record_views(user, "outlooks", action, keys, night)
    except audit.AuditUnavailable as exc:
        st.error(f"These records cannot be shown because the view cannot be logged: {exc}")
        return False
    st.session_state[f"ol_logged_{action}"] = signature
    return True


keys = people["person_key"].astype(str).tolist()
if not _audited("list", keys):
    st.stop()
shown = people.rename(columns={"person_key": "Person (pseudonymous key)", "segment_name": "Group",
                               **{c: _label(c) for c in cols}})
ui.plain_table(shown, "outlooks_list", column_config={
    _label(c): st.column_config.ProgressColumn(_label(c), format="percent", min_value=0.0, max_value=1.0) for c in cols})
st.caption(f"**What this shows:** the {len(people)} people most likely to face "
           f"{_label(order_by).lower()} within 12 months, with their other chances. Chances are from many people "
           "like them, not a prediction about one person's life: use them to decide whom to check on first.")

st.subheader("One person")
pick = st.selectbox("Person", [""] + keys, format_func=lambda k: k or "Choose a person from the list", key="ol_person")
if pick:
    if not _audited("detail", [pick]):
        st.stop()
    detail = ui.load("person_detail", person_key=pick)
    row = detail["outlook"]
    if len(row):
        m = st.columns(len(cols))
        for i, c in enumerate(cols):
            m[i].metric(_label(c), f"{float(row[c].iloc[0]):.0%}")
    months = detail["months"]
    if len(months):
        ui.plain_table(months, "outlook_person_months")
        st.caption("**What this shows:** where this person was at the end of each of their last 12 months in the "
                   "timeline.")
