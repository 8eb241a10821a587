"""Great Expectations: what the lake and the marts must satisfy, and running it. No Dagster here.

`suites.py` declares the expectations (pure functions of the feed declarations
and the seeds); `validation.py` runs a suite on an in-memory frame and renders
Data Docs; `worker.py` runs suites in a separate process, so that GX imports
itself on the other core while a run reads its first files.
"""
