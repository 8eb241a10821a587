-- one row per launch and not-sent reason; all four reasons always present
{{ counts_per_launch('not_sent_reasons', 'reason', 'not_sent_reason', 'not_sent') }}
