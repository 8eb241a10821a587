{# schemas are named exactly as configured (marts, staging, ...), not prefixed by the target's #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name if custom_schema_name else target.schema }}
{%- endmacro %}
