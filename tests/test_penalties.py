import numpy as np
import pytest

from regkit import backend
from regkit.penalties import as_float_tensor, is_tensor_like, l1, l2

from conftest import evaluate

T = backend.tensor

SHAPES = [(), (7,), (4, 5), (2, 3, 4, 5)]
REFERENCES = {l1: lambda a: np.abs(a).sum(), l2: lambda a: (a ** 2).sum()}


@pytest.mark.parametrize("penalty", [l1, l2])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_value_and_dtype_on_symbolic_input(penalty, shape, dtype, rng):
    data = rng.normal(size=shape).astype(dtype)
    x = T.TensorType(dtype, (False,) * len(shape))("x")
    result = penalty(x)
    assert result.ndim == 0
    assert result.dtype == dtype
    value = evaluate(result, {x: data})
    np.testing.assert_allclose(value, REFERENCES[penalty](
        data.astype("float64")), rtol=1e-5 if dtype == "float32" else 1e-12)


@pytest.mark.parametrize("penalty", [l1, l2])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_shared_and_numpy_inputs(penalty, dtype, rng):
    data = rng.normal(size=(3, 4)).astype(dtype)
    expected = REFERENCES[penalty](data.astype("float64"))
    for given in (backend.shared(data), data):
        result = penalty(given)
        assert result.dtype == dtype
        np.testing.assert_allclose(evaluate(result), expected, rtol=1e-5)


def test_lasagne_values():
    # Lasagne: l1 = sum(abs(x)), l2 = sum(x ** 2), no factor 1/2.
    data = np.array([[1.0, -2.0], [0.5, 0.0]])
    assert float(evaluate(l1(data))) == 3.5
    assert float(evaluate(l2(data))) == 5.25


@pytest.mark.parametrize("penalty", [l1, l2])
def test_gradient_by_finite_differences(penalty, rng):
    # away from the kink of abs at 0
    data = rng.uniform(0.2, 1.0, size=(3, 4)) * rng.choice([-1, 1], (3, 4))
    backend.verify_grad(penalty, [data], rng=np.random.RandomState(0))


def test_gradient_values():
    x = T.vector()
    data = np.array([-2.0, 0.5, 3.0])
    np.testing.assert_allclose(evaluate(backend.grad(l1(x), x), {x: data}),
                               np.sign(data))
    np.testing.assert_allclose(evaluate(backend.grad(l2(x), x), {x: data}),
                               2 * data)


@pytest.mark.parametrize("penalty", [l1, l2])
@pytest.mark.parametrize("bad", [None, "W", [1.0, 2.0], {"W": 1},
                                 np.array([object()])])
def test_non_tensors_raise_type_error(penalty, bad):
    with pytest.raises(TypeError, match=r"%s: x must be a tensor"
                       % penalty.__name__):
        penalty(bad)


@pytest.mark.parametrize("penalty", [l1, l2])
def test_integer_inputs_rejected(penalty):
    with pytest.raises(TypeError, match="float dtype, got int"):
        penalty(np.array([1, 2, 3]))
    with pytest.raises(TypeError, match="float dtype"):
        penalty(T.imatrix())


def test_helpers():
    assert is_tensor_like(np.zeros(2))
    assert is_tensor_like(T.vector())
    assert not is_tensor_like(np.array(["a"]))
    assert not is_tensor_like(3.0)
    assert as_float_tensor(np.zeros(2, "float32"), "f").dtype == "float32"
    with pytest.raises(TypeError, match="f: weights must be a tensor"):
        as_float_tensor(None, "f", "weights")


def _kl_np(h, rho):
    mean = np.clip(h.mean(axis=0), np.finfo(h.dtype).eps,
                   1 - np.finfo(h.dtype).eps)
    return (rho * np.log(rho / mean)
            + (1 - rho) * np.log((1 - rho) / (1 - mean))).sum()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(6, 4), (5, 2, 3)])
def test_kl_sparsity_value(dtype, shape, rng):
    data = rng.uniform(0.05, 0.95, size=shape).astype(dtype)
    from regkit.penalties import kl_sparsity
    result = kl_sparsity(data, target=0.1)
    assert result.dtype == dtype
    np.testing.assert_allclose(evaluate(result), _kl_np(data, 0.1),
                               rtol=1e-4 if dtype == "float32" else 1e-10)


def test_kl_sparsity_gradient_and_clipping(rng):
    from regkit.penalties import kl_sparsity
    data = rng.uniform(0.2, 0.8, size=(5, 3))
    backend.verify_grad(lambda h: kl_sparsity(h, target=0.3), [data],
                        rng=np.random.RandomState(1))
    h = T.matrix()
    for edge in (np.zeros((4, 3)), np.ones((4, 3))):
        value, grad = evaluate([kl_sparsity(h), backend.grad(kl_sparsity(h),
                                                             h)], {h: edge})
        assert np.isfinite(value) and np.isfinite(grad).all()
    with pytest.raises(ValueError, match="target"):
        kl_sparsity(data, target=0.0)
    with pytest.raises(ValueError, match="0-d"):
        kl_sparsity(np.float64(0.5))
