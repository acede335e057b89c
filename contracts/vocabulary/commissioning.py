"""How care-home places are bought: the assumptions behind the block-or-spot answer.

A commissioner buys care-home places two ways. A **block** contract reserves beds in an area for
a year at a lower weekly price, paid whether the beds are used or not. A **spot** placement is
bought one person at a time when needed, at a higher price, and only if the area's market has a
free bed; when it has none the person is placed in another area (**out of area**), nearest
first, at a higher price again and further from family. ``simulation/block_spot.py`` applies
this to every replication of the forecast.

These are assumptions, not this provider's figures - a provider replaces them with its own:

- prices (``contracts/vocabulary/costs.py``): block beds at about 6% under the domain's usual
  weekly fee (residential £800, nursing £1,000), spot at about 10-12% over it (£950, £1,150),
  and out-of-area placements 15% over spot; UK councils report block rates below and spot
  rates above their usual fee, by amounts of this order; a scenario file sets its own
  (``costs: {residential_spot_week: 1000}``);
- ``SPOT_SPARE_SHARE``: the free beds an area's market can sell as spot, beyond the block, as a
  share of the places the area needs at the start of the forecast (10%, a care-home market
  running at about 90% occupancy); a provider sets its own with ``LLIF_SPOT_SPARE_SHARE``
  (``contracts.settings.spot_spare_share``);
- ``BLOCK_SHARES``: the block sizes compared, as shares of the places each area needs at the
  start of the forecast.
"""

from __future__ import annotations

SPOT_SPARE_SHARE = 0.10
BLOCK_SHARES: tuple[float, ...] = (0.0, 0.5, 0.75, 0.9, 1.0, 1.1)
# the care-home states bought this way, and their prices' keys in the unit-cost table
CARE_TYPES: dict[str, tuple[str, str]] = {
    "residential_care": ("residential_block_week", "residential_spot_week"),
    "nursing_care": ("nursing_block_week", "nursing_spot_week"),
}
OUT_OF_AREA_UPLIFT = "out_of_area_uplift"
