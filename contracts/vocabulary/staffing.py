"""How many carers an hour of home care takes: the one number turning hours into staff.

A full-time care worker is paid for about 37.5 hours a week, but not every paid hour is spent
with people: travel between visits, training, supervision, leave and sickness take their share.
llif assumes **25 contact hours a week per full-time-equivalent carer** (two thirds of a 37.5-hour
week). This is an assumption, not a published figure for this provider: it sits within the range
that home-care cost models in the UK work with (contact time of about 60-75% of paid time), and a
provider should replace it with its own rota figure - ``marts.fct_home_care_staffing_monthly``
shows the contact hours its active carers actually delivered a week, which mixes part-time and
full-time carers and so reads lower.

Read by ``simulation/staffing.py`` (carers needed from the forecast's hours) and shown by the
explorer's Commissioning page; a provider sets its own with ``LLIF_CONTACT_HOURS_PER_CARER_WEEK``
(``contracts.settings.contact_hours_per_carer_week``).
"""

from __future__ import annotations

CONTACT_HOURS_PER_CARER_WEEK = 25.0
