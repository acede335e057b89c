"""The domain's words, each written once: states, need levels, places, areas, unit costs, KPIs, NI rules.

Why a package of plain data: the warehouse, the forecast engine, the models, the explorer, the
report, the synthetic world that tests them and the dbt project all name the same things (a
state, an area, a KPI, a unit cost). Written in each of them they drifted apart (issue 13); here
each is a table, every layer imports it, and the dbt project's copies are generated from it
(``contracts.vocabulary.dbt``) and checked by a test, so none can drift again.

Modules, by what they hold:

* ``states``: the timeline's states and their kinds, need levels, unit and scheme types, the
  capacity pools (places) the forecast counts;
* ``areas``: the local authorities the provider works in, their codes and home-care teams;
* ``costs``: the unit costs of care and of empty homes, with their ranges and payers;
* ``kpis``: the forecast's KPI catalogue (name, label, unit, description, how it aggregates);
* ``ni_numbers``: what a well-formed National Insurance number is, and the placeholders that
  belong to nobody;
* ``dbt``: the dbt macros generated from the above.
"""
