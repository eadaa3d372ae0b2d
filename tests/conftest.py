"""Shared helpers for the regkit test suite (run once per backend)."""
import numpy as np
import pytest

from regkit import backend


def evaluate(expr, givens=None):
    """Compile and evaluate `expr`, feeding `givens` {variable: value}."""
    givens = givens or {}
    inputs = list(givens)
    fn = backend.function(inputs, expr, on_unused_input="ignore")
    return fn(*[givens[v] for v in inputs])


@pytest.fixture
def rng():
    return np.random.default_rng(20261121)
