"""Great Expectations: what the lake and the marts must satisfy, and running it. No Dagster here.

`suites.py` declares the expectations (pure functions of the feed declarations,
the seeds and the project's constants); `validation.py` runs a suite on an
in-memory frame and renders Data Docs.
"""
