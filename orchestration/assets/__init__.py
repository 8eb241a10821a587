"""Dagster assets, one module per layer of the flow, each asset's docstring its UI description.

`landing.py` the six feeds (landing files → lake partitions), `models.py` the dbt
project (staging → intermediate → marts, audit), `published.py` the file BI tools
read, `contact_lists.py` the exports operators launch. The logic lives below, in
`ingestion/`, `orchestration/warehouse/` and `dbt_project/`; here it is wired.
"""
