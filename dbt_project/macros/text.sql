{# the first word of a text, with surrounding punctuation stripped, upper-cased #}
{% macro first_word(text) -%}
    {{ return(adapter.dispatch('first_word', 'sms_warehouse')(text)) }}
{%- endmacro %}

{% macro default__first_word(text) -%}
    upper(regexp_replace(regexp_extract(trim({{ text }}), '^(\\S+)', 1), '^[^\\p{L}\\p{N}]+|[^\\p{L}\\p{N}]+$', ''))
{%- endmacro %}

{% macro duckdb__first_word(text) -%}
    upper(regexp_replace(regexp_extract(trim({{ text }}), '^(\S+)', 1), '^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$', '', 'g'))
{%- endmacro %}
