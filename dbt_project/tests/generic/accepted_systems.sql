{#-
    Fails for every row whose source system is neither one of `values` (the shipped systems
    that may appear in the column) nor a system a source contract adds in `role`:
    'people' (it keeps person records), 'care_stays' (it keeps care-home stays) or 'any'.
    With field='person_table' the column holds person tables, and each such system's person
    table is allowed instead of its name.

    Why not accepted_values: a system a provider connects by its contract alone
    (docs/onboarding.md) must be allowed where its records flow, without editing these files.
-#}
{% test accepted_systems(model, column_name, values, role='any', field='system') %}
{%- set allowed = values | list -%}
{%- for s in llif.source_systems() -%}
    {%- if role == 'any' or (role == 'people' and s.get('person_records')) or (role == 'care_stays' and s.get('care_stays')) -%}
        {%- if s[field] not in allowed %}{% do allowed.append(s[field]) %}{% endif -%}
    {%- endif -%}
{%- endfor %}
select {{ column_name }} as system
from {{ model }}
where {{ column_name }} is not null
    and {{ column_name }} not in ({% for v in allowed %}'{{ v }}'{% if not loop.last %}, {% endif %}{% endfor %})
{% endtest %}
