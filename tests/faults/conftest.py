"""Fixtures of the fault tests."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests.faults.probes import Resends


@pytest.fixture
def resends() -> Iterator[Resends]:
    """Counts the resends of every device link in this process during the test."""
    handler = Resends()
    logger = logging.getLogger("protocol.link")
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)
