"""The test tiers, and what every test may count on.

Markers (`make test` runs them all; `make test-fast` only `unit`):

- `unit`: needs neither dbt nor a Dagster run nor a browser: pure functions over small
  hand-written files, a few seconds each (the fast tier, under a minute in all);
- `slow`: builds a warehouse (the command line, dbt, generated landing zones): seconds to minutes;
- `browser`: drives Debian's Chromium through Playwright (scripts/install-browser.sh).

A test with no marker is neither: it loads the Dagster definitions or runs a step in
process, quick but not pure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "unit: needs neither dbt, nor a Dagster run, nor a browser (the fast tier)"
    )
    config.addinivalue_line("markers", "slow: builds a warehouse with the command line or dbt")
    config.addinivalue_line("markers", "browser: drives a real Chromium through Playwright")


@pytest.fixture(autouse=True)
def _same_working_folder() -> Iterator[None]:
    """Each test starts in the folder pytest started in: dagster-dbt runs dbt from the project's
    folder (it changes the process's working folder meanwhile), and a default path such as
    `data/` is relative to it."""
    folder = os.getcwd()
    yield
    os.chdir(folder)
