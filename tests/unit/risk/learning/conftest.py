"""Small training sets shared by the model tests (built once per session: training must stay fast)."""

from __future__ import annotations

import pytest

from microcredit.risk.learning import spec as spec_module
from microcredit.risk.learning import synth


@pytest.fixture(scope="session")
def population():
    """20,000 synthetic borrowers with their true PD."""
    return synth.population(20_000, seed=11)


@pytest.fixture(scope="session")
def synthetic(population):
    """The population as a checked dataset (its spec has categorical columns and a time column)."""
    return spec_module.prepare(population, spec_module.ColumnSpec.from_json(synth.SPEC))
