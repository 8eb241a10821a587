"""Landing files in, the Parquet lake out: pure Python and Polars, nothing of Dagster or dbt.

Where a change goes:

- `feeds.py`        the six feeds: columns, types, allowed values (the only list of feeds)
- `reference.py`    the vocabularies the dbt seeds hold (receipt states, reasons, statuses)
- `textfiles.py`    bytes of a file (gzipped or not) to numbered lines, a bounded batch at a time
- `parse_text.py`   lines to string columns: CSV with a header, JSON Lines
- `parquet_file.py` Parquet landing files to the same string columns, in batches
- `smpp.py`         raw SMPP receipt text to id, state, error, done date
- `validate.py`     string columns to typed rows, or to quarantine with a reason
- `phones.py`, `e164_vectorised.py`  phone numbers to E.164, memoised across runs
- `ingest.py`       one partition (a feed's arrival day): read, type, de-duplicate, account
- `lake.py`, `atomic.py`  where partitions live in the lake, written atomically
- `generate.py`     a synthetic landing zone in the contract's formats, written in chunks
"""
