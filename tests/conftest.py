import pytest


@pytest.fixture(autouse=True)
def _give_every_test_the_database(db):
    """Every test runs against the real database (SQLite or PostgreSQL per DATABASE_URL)."""
