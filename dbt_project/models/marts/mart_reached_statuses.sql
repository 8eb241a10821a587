-- one row per launch and reached status; all seven statuses always present
{{ counts_per_launch('reached_statuses', 'status', 'reached_status', 'sent') }}
