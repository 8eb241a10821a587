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

{# text to integer, null when the text is not a decimal integer (never an error) #}
{% macro safe_integer(text) -%}
    {{ return(adapter.dispatch('safe_integer', 'sms_warehouse')(text)) }}
{%- endmacro %}

{% macro default__safe_integer(text) -%}
    cast({{ text }} as int)
{%- endmacro %}

{% macro duckdb__safe_integer(text) -%}
    try_cast({{ text }} as integer)
{%- endmacro %}
