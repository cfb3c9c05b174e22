"""Fixtures shared by the tests of the lists: `monde`, the diagnostics of the filter tests."""

from tests.diagnostics.test_filters import monde  # noqa: F401
