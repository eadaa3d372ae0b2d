"""Generator-backed random draws (regkit/backend/random.py)."""
import numpy as np
import pytest

from regkit import backend
from regkit.backend import random


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bernoulli_and_normal_draws(dtype):
    shape = (400, 250)
    mask = backend.bernoulli(shape, 0.25, dtype, np.random.SeedSequence(3))
    noise = backend.normal(shape, dtype, np.random.SeedSequence(4))
    fn = backend.function([], [mask, noise],
                          updates=backend.random_updates(mask, [noise]))
    (m1, n1), (m2, n2) = fn(), fn()
    assert m1.dtype == dtype and n1.dtype == dtype
    assert set(np.unique(m1).tolist()) == {0.0, 1.0}
    assert abs(m1.mean() - 0.25) < 0.01
    assert abs(n1.std() - 1) < 0.02 and abs(n1.mean()) < 0.02
    assert not np.array_equal(m1, m2) and not np.array_equal(n1, n2)


def test_draws_are_the_same_on_every_linker_and_match_numpy():
    results = []
    for name, mode in backend.linker_modes().items():
        if name in backend.OWN_RANDOM_STREAMS:
            continue  # JAX's generator: see test_linkers.py
        noise = backend.normal((3, 4), "float32", np.random.SeedSequence(11))
        uniform = backend.bernoulli((5,), 0.5, "float64",
                                    np.random.SeedSequence(12))
        results.append(backend.function(
            [], [noise, uniform], mode=mode,
            updates=backend.random_updates(noise, uniform))())
    for other in results[1:]:
        np.testing.assert_array_equal(results[0][0], other[0])
        np.testing.assert_array_equal(results[0][1], other[1])
    expected = np.random.default_rng(np.random.SeedSequence(11)) \
        .standard_normal((3, 4), dtype=np.float32)
    np.testing.assert_array_equal(results[0][0], expected)


@pytest.mark.parametrize("linker", sorted(backend.linker_modes()))
def test_a_draw_is_computed_once_even_when_its_shape_is_needed(linker):
    x = backend.tensor.matrix()
    mask = backend.bernoulli(x.shape, 0.5, "float64",
                             np.random.SeedSequence(1))
    dropped = x * mask
    # the shape of the product is asked for downstream
    out = backend.tensor.dot(dropped, dropped.T).sum() + dropped.shape[0]
    fn = backend.function([x], out, mode=backend.linker_modes()[linker],
                          updates=backend.random_updates(out))
    draws = [n for n in fn.maker.fgraph.toposort() if random._is_draw(n)]
    assert len(draws) == 1
