"""The slow tier: tests of a few seconds each (a PyTorch script run in a subprocess, 100,000
rows, a million epochs). `pytest` leaves them out (pyproject.toml: -m "not slow"); `pytest -m
slow` runs them alone, `pytest -m "slow or not slow"` everything, as .ci/run does."""

from __future__ import annotations

from fnmatch import fnmatch

import pytest

SLOW = (
    "tests/test_batch_loss.py::test_both_scripts_print_it[[]*pytorch*",
    "tests/test_check_logs.py::test_a_million_epochs_in_constant_memory",
    "tests/test_export.py::test_the_pytorch_script_prints_the_trace*",
    "tests/test_export_pipe.py::*[[]pytorch]",
    "tests/test_interop_doc.py::*",
    "tests/test_samples_files.py::test_a_hundred_thousand_rows_*",
    "tests/test_sizes.py::test_a_long_answers_file_gets_an_answer_not_an_alias_bomb",
    "tests/test_text_is_data.py::test_config_text_reaches_a_script_only_as_a_literal[[]pytorch*",
    "tests/test_widths.py::test_every_number_whole_at_every_width[[]check-log]",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if any(fnmatch(item.nodeid, pattern) for pattern in SLOW):
            item.add_marker(pytest.mark.slow)
