{#-
    Models land in the schema they name (+schema: staging -> `staging`), not in
    `<target schema>_staging`: the warehouse contract names the schemas raw, identity,
    staging, intermediate and marts on every target.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
