"""regkit's reduction Ops, sum_of_squares and sum_of_abs
(regkit/backend/ops.py): against the plain formulas on every linker."""
import numpy as np
import pytest

from regkit import backend


FAST_PATHS = {
    "sqr": (backend.sum_of_squares, lambda x: backend.tensor.sum(x ** 2),
            lambda a: (a ** 2).sum(), lambda a: 2 * a),
    "abs": (backend.sum_of_abs, lambda x: backend.tensor.sum(abs(x)),
            lambda a: np.abs(a).sum(), np.sign),
}


@pytest.mark.parametrize("kind", sorted(FAST_PATHS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(), (5,), (300, 700), (4, 3, 2, 5)])
@pytest.mark.parametrize("linker", sorted(backend.linker_modes()))
def test_fast_reductions_match_plain_formulas(kind, dtype, shape, linker):
    fast_fn, plain_fn, value_np, grad_np = FAST_PATHS[kind]
    rng = np.random.default_rng(5)
    data = rng.normal(size=shape).astype(dtype)
    x = backend.shared(data)
    fast, plain = fast_fn(x), plain_fn(x)
    assert fast.dtype == dtype and fast.ndim == 0
    mode = backend.linker_modes()[linker]
    got, want, grad = backend.function(
        [], [fast, plain, backend.grad(fast, x)], mode=mode)()
    exact = value_np(data.astype("float64"))
    rtol = 1e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got, exact, rtol=rtol)
    if linker == "MLX" and dtype == "float32":
        # MLX's own float32 sum accumulates in float32: 5e-5 off over the
        # 210,000 squares of the large case, where regkit's kernel is exact
        rtol = 1e-4
    np.testing.assert_allclose(got, want, rtol=rtol)
    np.testing.assert_allclose(grad, grad_np(data), rtol=rtol)


@pytest.mark.parametrize("kind", sorted(FAST_PATHS))
@pytest.mark.parametrize("linker", sorted(backend.linker_modes()))
def test_float32_reductions_accumulate_in_float64(kind, linker):
    # 2**22 equal float32 values: a float32 accumulator (one BLAS sdot or
    # sasum) is off by about 1e-5 here; a float64 one by nothing visible
    fast_fn, _, value_np, _ = FAST_PATHS[kind]
    for data in (np.full((1024, 4096), 0.01, dtype="float32"),
                 np.random.default_rng(3).random((1024, 4096),
                                                 dtype=np.float32)):
        got = np.asarray(backend.function(  # MLX returns its own arrays
            [], fast_fn(backend.shared(data)),
            mode=backend.linker_modes()[linker])())
        assert got.dtype == np.float32
        exact = value_np(data.astype(np.float64))
        assert abs(float(got) / exact - 1) < 1e-7
        # a transposed (non-contiguous) view takes the same path
        got_t = backend.function([], fast_fn(backend.shared(data).T),
                                 mode=backend.linker_modes()[linker])()
        assert abs(float(got_t) / exact - 1) < 1e-7


@pytest.mark.parametrize("kind", sorted(FAST_PATHS))
def test_fast_reductions_on_views_and_expressions(kind):
    fast_fn, _, value_np, _ = FAST_PATHS[kind]
    data = np.arange(12.0).reshape(3, 4) - 5
    x = backend.tensor.matrix()
    fn = backend.function([x], [fast_fn(x.T), fast_fn(x[:, ::2] * 2)])
    transposed, strided = fn(data)
    assert np.isclose(transposed, value_np(data))
    assert np.isclose(strided, value_np(data[:, ::2] * 2))
    backend.verify_grad(fast_fn, [data + 0.5], rng=np.random.RandomState(0))
