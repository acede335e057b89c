"""Plain words and colours for everything the explorer shows.

Why one module: planners read the pages, not the warehouse. Every code (a state, a measure, a
scheme type) is turned into words here, once, so that the app, the report and the tests agree,
and a test can scan every page for jargon that slipped through.

Colours are the Okabe-Ito palette (safe for the common kinds of colour blindness); the heat map
uses cividis, a sequential scale that reads the same to people with and without colour vision
deficiency and in greyscale print.
"""

from __future__ import annotations

from contracts.vocabulary.areas import AREA_NAME
from contracts.vocabulary.kpis import KPI, SUM
from contracts.vocabulary.states import NEED_LEVEL_LABELS as NEED_LEVEL_LABELS  # re-exported: the pages read words.*
from contracts.vocabulary.states import PLACE_OF_STATE, SCHEME_TYPE_LABELS, STATE_LABELS
from contracts.vocabulary.states import STATES as STATES

OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
    "grey": "#999999",
}
SEQUENCE = [OKABE_ITO[k] for k in ("blue", "orange", "green", "vermillion", "sky_blue", "purple", "yellow", "black", "grey")]
HEAT_SCALE = "cividis"

# The states, their labels, the scheme types' and the need levels' are the vocabulary's
# (contracts/vocabulary/states.py); this module adds how they look.

# A colour per state, so one state looks the same on every chart. Eleven states, eight
# Okabe-Ito colours: the two ways of leaving share grey and black, the two care homes share
# vermillion (told apart by their labels).
STATE_COLOURS = {
    "general_needs": OKABE_ITO["blue"],
    "sheltered": OKABE_ITO["sky_blue"],
    "extra_care": OKABE_ITO["green"],
    "temporary": OKABE_ITO["yellow"],
    "community": OKABE_ITO["orange"],
    "residential_care": OKABE_ITO["vermillion"],
    "nursing_care": OKABE_ITO["purple"],
    "hospital": "#8C510A",
    "hospice": "#01665E",
    "moved_out": OKABE_ITO["grey"],
    "died": OKABE_ITO["black"],
}

NEED_TYPE_LABELS = {
    "general": "General housing",
    "homeless": "Homeless households",
    "transfer": "Tenants asking to move",
    "sheltered": "Sheltered housing",
    "extra_care": "Extra-care housing",
}

SYSTEM_LABELS = {
    "crm": "Housing system (CRM)",
    "assets": "Asset system",
    "care_a": "Care homes, vendor A",
    "care_b": "Care homes, vendor B",
    "domcare": "Home care",
}

# Measures the explorer composes with a service or an area that the KPI catalogue does not name
# (an area's figures, the capacity outlook's derived columns): a title stem and a unit. Every
# KPI the engine writes takes its words from the catalogue (``kpi``).
MEASURE_LABELS = {
    "occupied": ("Places in use in", "places"),
    "people": ("People in", "people"),
    "people_need": ("People with care need level", "people"),
    "mean_wait_months": ("Average wait for", "months"),
    "needed": ("People who would need", "people"),
    "capacity": ("Places available in", "places"),
    "waiting": ("Waiting for", "people waiting"),
    "admissions": ("Admissions to", "admissions a month"),
    "cost": ("Cost", "£ a month"),
    "utilisation": ("Share of places in use", "% of places"),
    "population": ("People known to us", "people"),
}

SERVICE_LABELS = {
    **STATE_LABELS,
    "care_home": "Care homes",
    "home_care": "Home care",
    "total": "All services",
    "nhs": "Paid by the NHS",
    "local_authority": "Paid by the local authority",
    "provider": "Paid by us (the provider)",
    "charity": "Paid by charity",
    "all": "All services",
    "void": "Empty homes (lost rent)",
    "hospital_bed_days": "Hospital bed days",
    "hospital_admission": "Emergency hospital admissions",
}

SCENARIO_LABELS = {
    "baseline": "As things are (baseline)",
    "unconstrained": "Unlimited places (what people would need)",
}

# Words that must never reach a page: a test scans every page for them.
JARGON = ("KPI", "replication", "p95", "p90", "p50", "quantile", "percentile", "stddev", "NaN", "Traceback",
          "person_key", "dataframe", "null")


def state(code: str | None) -> str:
    if code is None:
        return "Not yet known"
    return STATE_LABELS.get(code, code.replace("_", " ").capitalize())


def scheme_type(code: str) -> str:
    return SCHEME_TYPE_LABELS.get(code, code.replace("_", " ").capitalize())


def service(code: str | None) -> str:
    if not code:
        return "All services"
    return SERVICE_LABELS.get(code, code.replace("_", " ").capitalize())


def scenario(name: str) -> str:
    return SCENARIO_LABELS.get(name, name.replace("_", " ").replace("-", " ").capitalize())


def area(code: str) -> str:
    """A local authority's name from its code ("area not recorded" and names pass through)."""
    return AREA_NAME.get(code, code)


def _unit(unit: str, aggregation: str) -> str:
    """A catalogue unit as a chart's axis reads it: flows are counted per month, money in pounds."""
    unit = "£" if unit == "GBP" else unit
    return f"{unit} a month" if aggregation == SUM else unit


def kpi(name: str) -> tuple[str, str] | None:
    """(Plain title, unit) of a KPI in the catalogue (contracts/vocabulary/kpis.py), else None."""
    k = KPI.get(name)
    if k is None:
        return None
    return k.label[0].upper() + k.label[1:], _unit(k.unit, k.aggregation)


def _kpi_name(kpi_measure: str, kpi_service: str | None) -> list[str]:
    """The catalogue names a (measure, service) pair may stand for (places go by their pool)."""
    if not kpi_service or kpi_service in ("total", "all"):
        return [kpi_measure, f"{kpi_measure}_total"] if kpi_service else [kpi_measure]
    names = [f"{kpi_measure}_{kpi_service}"]
    if kpi_service in PLACE_OF_STATE:
        names.append(f"{kpi_measure}_{PLACE_OF_STATE[kpi_service].resource}")
    return names


def measure(kpi_measure: str, kpi_service: str | None = None) -> tuple[str, str]:
    """(Plain title, unit) of a forecast measure and service, e.g. ("Extra-care waiting list", "people").

    A pair that names a catalogue KPI takes the catalogue's words; others (an explorer-derived
    measure such as utilisation) are composed from ``MEASURE_LABELS`` and the service's name."""
    for name in _kpi_name(kpi_measure, kpi_service):
        found = kpi(name)
        if found is not None:
            return found
    title, unit = MEASURE_LABELS.get(kpi_measure, (kpi_measure.replace("_", " ").capitalize(), ""))
    if kpi_service and kpi_service not in ("total", "all"):
        name = service(kpi_service)
        name = name[0].lower() + name[1:] if not name[:3].isupper() else name
        if title.endswith((" in", " for", " to", " need")):
            return f"{title} {name}", unit
        return f"{title}: {name}", unit
    return title, unit


def chance(p: float | None) -> str:
    """A probability as planners say it: "very likely (92%)"."""
    if p is None or p != p:
        return "chance not known"
    pct = round(100 * float(p))
    if p >= 0.9:
        word = "very likely"
    elif p >= 0.66:
        word = "likely"
    elif p >= 0.33:
        word = "about as likely as not"
    elif p >= 0.1:
        word = "unlikely"
    else:
        word = "very unlikely"
    return f"{word} ({pct}%)"


def money(x: float) -> str:
    if x != x:
        return "not known"
    sign = "-" if x < 0 else ""
    x = abs(x)
    if x >= 1e6:
        return f"{sign}£{x / 1e6:,.1f} million"
    if x >= 1e3:
        return f"{sign}£{x / 1e3:,.0f} thousand"
    return f"{sign}£{x:,.0f}"


def month(ts) -> str:
    import pandas as pd

    return pd.Timestamp(ts).strftime("%B %Y")
