"""Every number the world is calibrated with, in one place, with the target it serves.

Rates are per month unless named ``_annual``. Targets refer to the calibration table (synthetic_sources/calibration/targets.py META, docs/calibration.md)
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
# Time already in the tenancy at 1998-01 (exponential mean, years), by unit type.
INITIAL_TENANCY_MEAN_YEARS = {"general_needs": 9.0, "sheltered": 5.0, "extra_care": 2.0, "temporary": 0.6}
INITIAL_OLDER_SEGMENTS = {OLD: 0.65, FRAIL: 0.2, PLAN: 0.15}  # sheltered and extra-care tenants at 1998-01
# Care-home residents at 1998-01: age offset plus gamma (offset, shape, scale, clipped low, high),
# share women, share frail (else planned), share at need 2 in residential care (else 3; nursing
# is all 3), months already in the home (exponential mean), share admitted from hospital.
INITIAL_RESIDENT_AGE = (82, 2.0, 3.5, 65, 104)
INITIAL_RESIDENT_FEMALE = 0.68
INITIAL_RESIDENT_FRAIL = 0.6
INITIAL_RESIDENT_NEED2 = 0.6
INITIAL_RESIDENT_STAY_MEAN_MONTHS = 20
INITIAL_RESIDENT_FROM_HOSPITAL = 0.5
INITIAL_COMMUNITY_KNOWN_MEAN_DAYS = 400  # how long the 1998 community had had home care (exponential mean)

# --- Household sizes by segment (members besides the lead: probabilities of 0, 1, 2, 3, 4) -----
MEMBERS_P = {
    WA: [0.30, 0.25, 0.20, 0.17, 0.08],
    OLD: [0.55, 0.43, 0.02, 0.0, 0.0],
    EMG: [0.45, 0.20, 0.20, 0.10, 0.05],
    SUP: [0.95, 0.05, 0.0, 0.0, 0.0],
    FRAIL: [0.60, 0.40, 0.0, 0.0, 0.0],
    PLAN: [0.55, 0.45, 0.0, 0.0, 0.0],
}
# Lead's sex: the share who are women, older segments (OLD, FRAIL, PLAN) and the rest.
FEMALE_LEAD_OLDER = 0.62
FEMALE_LEAD_OTHER = 0.55
# Members: the first is a partner of similar age (when the lead is over 20) with this chance,
# else a child; a partner's age is the lead's plus a normal gap, a child's the lead's less
# CHILD_AGE_GAP_MIN plus a uniform spread; members keep the lead's surname with these chances.
PARTNER_ADULT = 0.7
PARTNER_AGE_GAP_SD = 4
CHILD_AGE_GAP_MIN = 22
CHILD_AGE_GAP_SPREAD = 15
SAME_SURNAME_PARTNER = 0.75
SAME_SURNAME_CHILD = 0.85
# Age of a lead arriving, by segment: working age uniform (low, high); older segments normal
# (mean, sd, clipped low, high); emergency and supported 18 plus a gamma (shape, scale).
ENTRY_AGE_WA = (20, 58)
ENTRY_AGE_OLDER = (71, 9, 55, 98)
ENTRY_AGE_EMG_GAMMA = (3.0, 4.5)
ENTRY_AGE_SUP_GAMMA = (3.0, 5.0)

# --- Circumstances of a person arriving (the CRM's records; arrears and support) -----------------
# Employment of people under 66: employed with these chances (working-age segment, others);
# of the rest, unemployed with UNEMPLOYED_NOT_EMPLOYED, else unable to work. Over 66: retired.
EMPLOYED_WA = 0.62
EMPLOYED_OTHER = 0.25
UNEMPLOYED_NOT_EMPLOYED = 0.5
STUDENT_YOUNG = 0.3  # student, among people under STUDENT_BELOW_AGE
STUDENT_BELOW_AGE = 22
RETIREMENT_AGE = 66  # retired from this age (the state pension age)
UNABLE_TO_WORK_SUP = 0.8  # supported-housing segment: unable to work, else unemployed
# Benefits: retired people on pension credit, employed people on universal credit (else none);
# everyone else not working is on universal credit.
PENSION_CREDIT_RETIRED = 0.45
UNIVERSAL_CREDIT_EMPLOYED = 0.35
# Income band probabilities (low, middle, high).
INCOME_P_EMPLOYED = [0.45, 0.45, 0.10]
INCOME_P_OTHER = [0.8, 0.18, 0.02]
INCOME_P_PLAN = [0.3, 0.45, 0.25]  # people planning a care move: more often with means
SUPPORT_SUP_EMG = 0.7  # has a support worker: supported and emergency segments
SUPPORT_OTHER = 0.04  # has a support worker: anyone (on top)
# Wellbeing score 1-10 at arrival: normal mean (emergency and supported, others) and sd.
WELLBEING_MEAN_EMG_SUP = 5.0
WELLBEING_MEAN_OTHER = 6.5
WELLBEING_SD = 1.6
WELLBEING_CHANGE = 0.05  # monthly chance a tenant's wellbeing moves one point up or down
INITIAL_ARREARS_P = [0.55, 0.41, 0.04]  # arrears band 0/1/2 at arrival, near ARREARS_P's stationary shares (#6)

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
TEMPORARY_CARE_MORTALITY_MULT = 1.5  # life-table mortality in a respite or reablement stay
# Where people die: not in a care home (65+), and care-home residents (#21).
DEATH_PLACE_COMMUNITY = {"hospital": 0.60, "home": 0.33, "hospice": 0.07}
DEATH_PLACE_CARE_HOME = {"care_home": 0.68, "hospital": 0.28, "hospice": 0.04}
# Under 65 deaths lean less to hospice.
TERMINAL_HOSPITAL_LOS_MEAN = 10.0
TERMINAL_HOSPICE_LOS_MEAN = 14.0
# Gamma shapes of those terminal stays (the scale is mean / shape).
TERMINAL_HOSPITAL_LOS_SHAPE = 1.5
TERMINAL_HOSPICE_LOS_SHAPE = 1.4

# --- Need for help with daily living (#9, #20) -------------------------------------------------
# Target prevalence of need >= 1 by age: a logistic curve; measured on tenancy holders (#9) it
# lands near 17% at 65-69 and 53% at 85+ once care-home moves and deaths have thinned the old.
NEED_LOGISTIC_MID = 91.0
NEED_LOGISTIC_WIDTH = 16.0
NEED_ONSET_BOOST = 1.2  # compensates for high-need people leaving home for care homes
NEED_RISE_1_TO_2 = 0.013
NEED_RISE_2_TO_3 = 0.005
NEED_RECOVER_1_TO_0 = 0.004
# Rises from need 1 and 2 speed up with age: times exp((age - centre) / scale), clipped to a range.
NEED_RISE_AGE_CENTRE = 75
NEED_RISE_AGE_SCALE = 15
NEED_RISE_AGE_MULT_RANGE = (0.3, 3.0)
INITIAL_NEED_MAX_PREVALENCE = 0.95  # cap on the chance of need >= 1 at arrival
INITIAL_NEED_LEVEL_P = [0.5, 0.33, 0.17]  # need level 1/2/3 of those arriving with need
SEGMENT_NEED_MULT = {0: 1.0, WA: 0.7, OLD: 1.0, EMG: 0.7, SUP: 1.2, FRAIL: 2.0, PLAN: 1.3}

# --- Home care (#20; about 1,000 people receive it at scale 1) ---------------------------------
# Most tenants who need help get it from family or other providers: take-up of ours is modest.
PACKAGE_START = {1: 0.05, 2: 0.12, 3: 0.30}
HOME_CARE_UPTAKE = 0.2  # share of tenants who would take our home care when they need it  # monthly chance someone at home at that level starts
PACKAGE_START_EXTRA_CARE = 0.6
# Planned hours a week by need level: lognormal (median, sigma), clipped to the level's band.
PACKAGE_HOURS = {1: (3.0, 0.35, 1.0, 5.0), 2: (6.5, 0.30, 5.0, 15.0), 3: (18.0, 0.35, 15.0, 56.0)}
REFERRAL_TO_START_MEDIAN_DAYS = 12
REFERRAL_TO_START_SIGMA = 0.6  # lognormal sigma of that delay
COMMUNITY_ARRIVALS = 6.5  # outside people referred for home care a month, at scale 1
COMMUNITY_NEED_P = [0.0, 0.30, 0.45, 0.25]
COMMUNITY_SEGMENT_P = {FRAIL: 0.40, PLAN: 0.20, OLD: 0.40}
COMMUNITY_AGE = (72, 2.5, 4.5, 60, 102)  # offset plus gamma (shape, scale), clipped low, high
COMMUNITY_FEMALE = 0.62

# --- Hospital (#16, #17, #18, #19) ---------------------------------------------------------------
HOSPITAL_ANNUAL_BY_AGE = ((0, 0.05), (50, 0.07), (65, 0.10), (75, 0.15), (85, 0.21))
HOSPITAL_NEED_MULT = np.array([0.75, 1.2, 1.5, 1.8])
HOSPITAL_SEGMENT_MULT = {0: 1.0, WA: 0.9, OLD: 1.0, EMG: 1.2, SUP: 1.2, FRAIL: 1.6, PLAN: 0.9}
HOSPITAL_CARE_HOME_ANNUAL = 0.62
WINTER_MULT = 1.25  # December-February
SUMMER_MULT = 0.9  # June-August
WINTER_MONTHS = (12, 1, 2)
SUMMER_MONTHS = (6, 7, 8)
# Clinical length of stay (days): gamma with this shape, mean by age.
LOS_SHAPE = 1.3
LOS_MEAN_BY_AGE = ((0, 5.0), (65, 7.2), (85, 8.6))
# Discharge destinations for people admitted from home (not a care home).
HOSP_TO_CARE_HOME_BY_NEED = np.array([0.0006, 0.0036, 0.011, 0.031])
HOSP_TO_CARE_SEGMENT_MULT = {0: 1.0, WA: 0.3, OLD: 1.0, EMG: 0.3, SUP: 0.5, FRAIL: 2.6, PLAN: 0.4}
HOSP_TO_REABLEMENT = 0.015  # need >= 1, aged REABLEMENT_MIN_AGE+
REABLEMENT_MIN_AGE = 65
HOSP_WAIT_FOR_PACKAGE = 0.10  # need >= 2 going home: delayed until a home-care package starts
ARRANGE_CARE_HOME_MEDIAN_DAYS = 28.0  # assessment, funding and choice before a bed is wanted
ARRANGE_CARE_HOME_SIGMA = 0.55
REABLEMENT_ARRANGE_FACTOR = 0.7  # a short stay is arranged faster
REABLEMENT_STAY_SHAPE = 4.0  # gamma shape of a reablement stay's planned length (mean TEMPORARY_STAY_MEAN_DAYS)
PACKAGE_DELAY_MEDIAN_DAYS = 24.0
PACKAGE_DELAY_SIGMA = 0.6

# --- Hospice (#22) -------------------------------------------------------------------------------
HOSPICE_ALIVE_PER_TERMINAL = 0.40 / 0.60
HOSPICE_DISCHARGED_LOS_MEAN = 16.5
HOSPICE_DISCHARGED_LOS_SHAPE = 1.6

# --- Care homes (#10, #13, #14, #15) --------------------------------------------------------------
# The provider's own people need few beds (12-14 admissions per 1,000 at 65+ a year); the local
# authority places people from the wider population in the rest (OUTSIDE_*).
PERMANENT_FROM_HOME = {PLAN: 0.0055, FRAIL: 0.0006, OLD: 0.00027}  # need >= 2 at home, monthly
PERMANENT_FROM_HOME_NEED3_MULT = 2.0
PERMANENT_FROM_HOME_MIN_AGE = 60
RESPITE_FROM_HOME = 0.0009  # need >= 2 at home, RESPITE_FROM_HOME_MIN_AGE+
RESPITE_FROM_HOME_MIN_AGE = 65
TEMPORARY_STAY_MEAN_DAYS = 28.0
RESPITE_STAY_SHAPE = 3.0  # gamma shape of a respite stay's planned length from home
# Days from a referral from home to the day a bed is wanted: uniform integers [low, high).
PERMANENT_WANT_AFTER_DAYS = (14, 60)
RESPITE_WANT_AFTER_DAYS = (7, 30)
BED_TURNAROUND_MEAN_DAYS = 36.0  # cleaning, assessment and matching before a bed is let again
OUTSIDE_FILL_DELAY_MAX_DAYS = 12
OUTSIDE_KIND_P = {"permanent": 0.60, "respite": 0.18, "reablement": 0.22}
OUTSIDE_FROM_HOSPITAL = 0.50
# Local-authority placements: age (offset plus gamma shape, scale; clipped low, high), share
# women, share at need 2 in residential care (else 3), gamma shape of a temporary stay's length,
# days between referral and admission (uniform integers [low, high)).
OUTSIDE_RESIDENT_AGE = (80, 2.0, 4.0, 65, 104)
OUTSIDE_RESIDENT_FEMALE = 0.66
OUTSIDE_RESIDENT_NEED2 = 0.55
OUTSIDE_STAY_SHAPE = 4.0
OUTSIDE_REFERRAL_BEFORE_DAYS = (3, 40)
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
EMG_READY_SIGMA = 0.6  # lognormal sigma of that time
SUP_MOVE_ON_ANNUAL = 0.20
SHELTERED_APPLY = 0.0035  # GN leads OLDER_APPLICANT_MIN_AGE+ with need >= 1
OLDER_APPLICANT_MIN_AGE = 60  # tenants and community people this old may apply for sheltered or extra care
TRANSFER_APPLY = 0.0026  # GN leads asking to move within the stock, monthly
TRANSFER_WITHDRAW = 0.02  # monthly
GN_LETS_ANNUAL = 0.085  # expected general-needs lets a unit a year: sizes the register's inflow
SHELTERED_REGISTER_MONTHLY = 10.0  # older households applying for sheltered housing, at scale 1
EXTRA_CARE_REGISTER_MONTHLY = 1.6
REGISTER_OVERSUPPLY = 1.3  # applicants per let: some withdraw before an offer
REGISTER_WITHDRAW = 0.025  # monthly, applicants not yet housed
EXTRA_CARE_APPLY = 0.004  # leads OLDER_APPLICANT_MIN_AGE+ and community people with need >= 2
TRANSFER_ROUTE_SHARE = 0.25  # (#4)
REGISTER_SHARE_MIN = 0.05  # the register's share of general-needs lets never falls below this
# Sheltered and extra-care lets offered first to our own list (tenants and people we care for).
SHELTERED_FROM_LIST = 0.55
EXTRA_CARE_FROM_LIST = 0.8
# Segments of households joining the register from outside: general needs, and sheltered or extra care.
REGISTER_GENERAL_SEGMENTS = {WA: 0.84, OLD: 0.10, FRAIL: 0.04, PLAN: 0.02}
REGISTER_OLDER_SEGMENTS = {OLD: 0.6, FRAIL: 0.25, PLAN: 0.15}
# Priority bands of applications: tenants' own (transfer, sheltered, extra care), newcomers'.
TENANT_APPLICATION_BANDS = {"A": 0.2, "B": 0.5, "C": 0.3}
REGISTER_APPLICATION_BANDS = {"B": 0.35, "C": 0.45, "D": 0.2}
PRIOR_OFFERS = (0, 3)  # offers already refused, recorded on an application: uniform integers [low, high)
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
SURNAME_CHANGE = 0.0012  # women aged SURNAME_CHANGE_AGES, monthly (marriage)
SURNAME_CHANGE_AGES = (18, 45)
