"""The table of calibration targets: number -> (short name, target, tolerance).

One place for what the world is held to (``docs/domain.md``; ``docs/calibration.md`` says how
each is measured). The measuring modules read their row's words from here, and
``evaluate`` reports a target it cannot measure under the same words.
"""

from __future__ import annotations

META = {  # number: (short name, target, tolerance): the calibration targets
    1: ("mortality 60-95 (not in care homes)", "ONS qx (O/E 1.00)", "graduated O/E 0.85-1.15 at each age"),
    2: ("life expectancy at 65, 2017-19", "M 18.3 / F 20.7 years", "±0.5 years"),
    3: ("general-needs turnover", "7-8%", "6-9%"),
    4: ("lets by route (2023-24)", "register 39% / homeless 36% / transfer 25%", "±5 pp"),
    5: ("void units", "2%", "1.5-3%"),
    6: ("tenancies in arrears", "any 46% / 13+ weeks 4%", "±5 pp / ±1.5 pp"),
    7: ("evictions", "0.3% of tenancies", "0.2-0.5%"),
    8: ("mean completed GN tenancy", "11-12 years", "9-15 years"),
    9: ("needing help with daily living", "65-69 17% / 85+ 53%", "±5 pp"),
    10: ("care-home admissions per 1,000 65+", "12-14", "8-16"),
    11: ("care-home stay until death", "median 15 / mean 26 months", "±20%"),
    12: ("alive 1 year after admission", "55%", "50-65%"),
    13: ("respite/reablement stays", "35-40% of stays, ~4 weeks", "±10 pp; 2-6 weeks (ours)"),
    14: ("permanent admissions from hospital", "50%", "40-60%"),
    15: ("care-home occupancy", "92%", "88-95%"),
    16: ("emergency admissions per person 65+ at home", "0.20-0.25 a year", "±20% (0.16-0.30)"),
    17: ("emergency admissions per care-home resident-year", "0.7-1.0", "±20% (0.56-1.2)"),
    18: ("mean hospital stay", "18+ 8-9 / 85+ 11-12.5 days", "±1.5 days"),
    19: ("median delayed discharge", "27 days", "±25% (20-34)"),
    20: (
        "home-care hours per person-week",
        "mean 12, right-skewed (median ~8)",
        "mean 10-14; median < mean",
    ),
    21: ("place of death 65+", "hospital 50% / home 23% / care home 21% / hospice 6%", "±6 pp"),
    22: ("hospice stays", "mean 15 days; 40% discharged alive", "±5 days; ±10 pp"),
}
