"""State the warehouse keeps beside its data, and the files it writes for readers. No Dagster here.

`landing_changes.py` decides which landing partitions changed since the lake
accepted them (the one rule the CLI, the schedule and the sensor share);
`rebuild.py` decides when a dbt build must start from the whole lake and lets
ingestion and builds take turns; `publish.py` puts the built marts in place for
BI tools, atomically; `contact_lists.py` writes contact-list CSV files.
"""
