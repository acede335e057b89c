"""Every number the world is calibrated with, in one place, with the target it serves.

Rates are per month unless named ``_annual``. Targets refer to the calibration table (synthetic_sources/calibration.py META, docs/calibration.md)
(#1-#22); docs/calibration.md says how each is measured.
"""

from __future__ import annotations

import numpy as np

# --- Segments (latent; the pipeline never sees them) -------------------------------------------
WA, OLD, EMG, SUP, FRAIL, PLAN = 1, 2, 3, 4, 5, 6
SEGMENT_NAMES = {
    0: "member",
    WA: "working_age_long_term",
    OLD: "older_ageing_in_place",
    EMG: "short_term_emergency",
    SUP: "supported_long_term",
    FRAIL: "frail_unplanned",
    PLAN: "planned_care_move",
}

# --- Initial population, 1998-01 --------------------------------------------------------------
INITIAL_OCCUPANCY = 0.98
INITIAL_GN_SEGMENTS = {WA: 0.56, OLD: 0.30, FRAIL: 0.05, PLAN: 0.03, EMG: 0.06}
INITIAL_CARE_OCCUPANCY = 0.92
INITIAL_COMMUNITY = 250  # people known to home care in their own homes, at scale 1

# --- Household sizes by segment (members besides the lead: probabilities of 0, 1, 2, 3, 4) -----
MEMBERS_P = {
    WA: [0.30, 0.25, 0.20, 0.17, 0.08],
    OLD: [0.55, 0.43, 0.02, 0.0, 0.0],
    EMG: [0.45, 0.20, 0.20, 0.10, 0.05],
    SUP: [0.95, 0.05, 0.0, 0.0, 0.0],
    FRAIL: [0.60, 0.40, 0.0, 0.0, 0.0],
    PLAN: [0.55, 0.45, 0.0, 0.0, 0.0],
}

# --- Mortality (#1, #2, #11, #12, #21) ---------------------------------------------------------
PANDEMIC = ("2020-04", "2021-03")
PANDEMIC_MORTALITY_COMMUNITY = 1.12
PANDEMIC_MORTALITY_CARE_HOME = 1.45
PANDEMIC_CARE_ADMISSIONS = 0.7
PANDEMIC_HOSPITAL_ADMISSIONS = 0.8
# Permanent care-home residents: Weibull survival from admission, shape and scale (months):
# median 15, mean 26, 56% alive at one year (#11, #12); a little under the analytic 23.7
# because measured stays also carry the last days in hospital or hospice.
CARE_HOME_WEIBULL_K = 0.80
CARE_HOME_WEIBULL_LAMBDA = 22.0
# Where people die: not in a care home (65+), and care-home residents (#21).
DEATH_PLACE_COMMUNITY = {"hospital": 0.60, "home": 0.33, "hospice": 0.07}
DEATH_PLACE_CARE_HOME = {"care_home": 0.68, "hospital": 0.28, "hospice": 0.04}
# Under 65 deaths lean less to hospice.
TERMINAL_HOSPITAL_LOS_MEAN = 10.0
TERMINAL_HOSPICE_LOS_MEAN = 14.0

# --- Need for help with daily living (#9, #20) -------------------------------------------------
# Target prevalence of need >= 1 by age: a logistic curve; measured on tenancy holders (#9) it
# lands near 17% at 65-69 and 53% at 85+ once care-home moves and deaths have thinned the old.
NEED_LOGISTIC_MID = 91.0
NEED_LOGISTIC_WIDTH = 16.0
NEED_ONSET_BOOST = 1.2  # compensates for high-need people leaving home for care homes
NEED_RISE_1_TO_2 = 0.013
NEED_RISE_2_TO_3 = 0.005
NEED_RECOVER_1_TO_0 = 0.004
SEGMENT_NEED_MULT = {0: 1.0, WA: 0.7, OLD: 1.0, EMG: 0.7, SUP: 1.2, FRAIL: 2.0, PLAN: 1.3}

# --- Home care (#20; about 1,000 people receive it at scale 1) ---------------------------------
# Most tenants who need help get it from family or other providers: take-up of ours is modest.
PACKAGE_START = {1: 0.05, 2: 0.12, 3: 0.30}
HOME_CARE_UPTAKE = 0.2  # share of tenants who would take our home care when they need it  # monthly chance someone at home at that level starts
PACKAGE_START_EXTRA_CARE = 0.6
# Planned hours a week by need level: lognormal (median, sigma), clipped to the level's band.
PACKAGE_HOURS = {1: (3.0, 0.35, 1.0, 5.0), 2: (6.5, 0.30, 5.0, 15.0), 3: (18.0, 0.35, 15.0, 56.0)}
REFERRAL_TO_START_MEDIAN_DAYS = 12
COMMUNITY_ARRIVALS = 6.5  # outside people referred for home care a month, at scale 1
COMMUNITY_NEED_P = [0.0, 0.30, 0.45, 0.25]
COMMUNITY_SEGMENT_P = {FRAIL: 0.40, PLAN: 0.20, OLD: 0.40}

# --- Hospital (#16, #17, #18, #19) ---------------------------------------------------------------
HOSPITAL_ANNUAL_BY_AGE = ((0, 0.05), (50, 0.07), (65, 0.10), (75, 0.15), (85, 0.21))
HOSPITAL_NEED_MULT = np.array([0.75, 1.2, 1.5, 1.8])
HOSPITAL_SEGMENT_MULT = {0: 1.0, WA: 0.9, OLD: 1.0, EMG: 1.2, SUP: 1.2, FRAIL: 1.6, PLAN: 0.9}
HOSPITAL_CARE_HOME_ANNUAL = 0.62
WINTER_MULT = 1.25  # December-February
SUMMER_MULT = 0.9  # June-August
# Clinical length of stay (days): gamma with this shape, mean by age.
LOS_SHAPE = 1.3
LOS_MEAN_BY_AGE = ((0, 5.0), (65, 7.2), (85, 8.6))
# Discharge destinations for people admitted from home (not a care home).
HOSP_TO_CARE_HOME_BY_NEED = np.array([0.0006, 0.0036, 0.011, 0.031])
HOSP_TO_CARE_SEGMENT_MULT = {0: 1.0, WA: 0.3, OLD: 1.0, EMG: 0.3, SUP: 0.5, FRAIL: 2.6, PLAN: 0.4}
HOSP_TO_REABLEMENT = 0.015  # need >= 1, aged 65+
HOSP_WAIT_FOR_PACKAGE = 0.10  # need >= 2 going home: delayed until a home-care package starts
ARRANGE_CARE_HOME_MEDIAN_DAYS = 28.0  # assessment, funding and choice before a bed is wanted
ARRANGE_CARE_HOME_SIGMA = 0.55
REABLEMENT_ARRANGE_FACTOR = 0.7  # a short stay is arranged faster
PACKAGE_DELAY_MEDIAN_DAYS = 24.0
PACKAGE_DELAY_SIGMA = 0.6

# --- Hospice (#22) -------------------------------------------------------------------------------
HOSPICE_ALIVE_PER_TERMINAL = 0.40 / 0.60
HOSPICE_DISCHARGED_LOS_MEAN = 16.5

# --- Care homes (#10, #13, #14, #15) --------------------------------------------------------------
# The provider's own people need few beds (12-14 admissions per 1,000 at 65+ a year); the local
# authority places people from the wider population in the rest (OUTSIDE_*).
PERMANENT_FROM_HOME = {PLAN: 0.0055, FRAIL: 0.0006, OLD: 0.00027}  # need >= 2 at home, monthly
PERMANENT_FROM_HOME_NEED3_MULT = 2.0
RESPITE_FROM_HOME = 0.0009  # need >= 2 at home, 65+
TEMPORARY_STAY_MEAN_DAYS = 28.0
BED_TURNAROUND_MEAN_DAYS = 36.0  # cleaning, assessment and matching before a bed is let again
OUTSIDE_FILL_DELAY_MAX_DAYS = 12
OUTSIDE_KIND_P = {"permanent": 0.60, "respite": 0.18, "reablement": 0.22}
OUTSIDE_FROM_HOSPITAL = 0.50
NURSING_SHARE_OF_HIGH_NEED = 0.45

# --- Tenancies, arrears, lets, voids (#3-#8) -----------------------------------------------------
# Arrears bands 0/1/2 (none, under 13 weeks, 13+): a monthly Markov chain whose stationary
# shares are about 54/42/4 (#6).
ARREARS_P = {"0to1": 0.060, "1to0": 0.0771, "1to2": 0.0100, "2to1": 0.0950}
ARREARS_SEGMENT_MULT = {0: 1.0, WA: 1.15, OLD: 0.6, EMG: 1.5, SUP: 1.3, FRAIL: 0.7, PLAN: 0.5}
EVICTION_FROM_BAND2_ANNUAL = 0.075  # (#7)
MOVE_OUT_ANNUAL = {WA: 0.036, OLD: 0.012, EMG: 0.09, SUP: 0.04, FRAIL: 0.012, PLAN: 0.015}
TEMPORARY_EXIT_ANNUAL = {EMG: 0.30, SUP: 0.12}  # leave temporary accommodation without a let
EMG_READY_MEDIAN_MONTHS = 5.0  # ready to move on to a settled home
SUP_MOVE_ON_ANNUAL = 0.20
SHELTERED_APPLY = 0.0035  # GN leads 60+ with need >= 1
TRANSFER_APPLY = 0.0026  # GN leads asking to move within the stock, monthly
TRANSFER_WITHDRAW = 0.02  # monthly
GN_LETS_ANNUAL = 0.085  # expected general-needs lets a unit a year: sizes the register's inflow
SHELTERED_REGISTER_MONTHLY = 10.0  # older households applying for sheltered housing, at scale 1
EXTRA_CARE_REGISTER_MONTHLY = 1.6
REGISTER_OVERSUPPLY = 1.3  # applicants per let: some withdraw before an offer
REGISTER_WITHDRAW = 0.025  # monthly, applicants not yet housed
EXTRA_CARE_APPLY = 0.004  # leads 60+ and community people with need >= 2
TRANSFER_ROUTE_SHARE = 0.25  # (#4)
# Homeless households' share of general-needs lets, by financial year start (#4; 24% 2021-22, 36% 2023-24).
# General needs carries about 85% of settled lets, so its homeless share is the target / 0.85.
HOMELESS_SHARE = ((1998, 0.16), (2010, 0.20), (2016, 0.24), (2019, 0.26), (2021, 0.28), (2022, 0.35), (2023, 0.42), (2024, 0.43))
VOID_DAYS_MEDIAN = {"general_needs": 38.0, "sheltered": 45.0, "extra_care": 30.0, "temporary": 6.0}
VOID_DAYS_SIGMA = 0.6
LONG_VOID_SHARE = 0.05  # major works
LONG_VOID_DAYS = (150, 420)
HOMELESS_REFERRALS = 42.0  # households a month needing temporary accommodation, at scale 1, in 2023
HOMELESS_REFERRALS_GROWTH = 0.035  # a year
SUP_SHARE_OF_TEMPORARY = 0.30
TEMPORARY_WAIT_GIVE_UP_MONTHS = 4
SURNAME_CHANGE = 0.0012  # women 18-45, monthly (marriage)
