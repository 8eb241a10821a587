"""The `sms-warehouse` command: generate sample data, run the warehouse job, export, open the UI.

`main.py` parses the command line and turns errors into one line; `run.py`
launches the warehouse job on the Dagster instance the UI reads; `report.py`
prints what a run did (problem files, checks, the campaign summary).
"""
