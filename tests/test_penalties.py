import numpy as np
import pytest

import regkit
from regkit import backend
from regkit.nonlinearities import softmax
from regkit.penalties import (as_float_tensor, is_tensor_like, kl_sparsity,
                              l1, l2)

from conftest import evaluate, mlp

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
    for target in (None, "0.1", True):
        with pytest.raises(TypeError, match="kl_sparsity: target"):
            kl_sparsity(data, target=target)
    with pytest.raises(ValueError, match="0-d"):
        kl_sparsity(np.float64(0.5))


# -- the catalogue: elastic_net, group_lasso, orthogonality, total_variation --

from regkit.penalties import (elastic_net, group_lasso, orthogonality,
                              total_variation)


def _group_lasso_np(a, axis=-1):
    return np.sqrt((a ** 2).sum(axis=axis)).sum()


def _columns_np(a):
    return a if a.ndim == 2 else a.reshape(a.shape[0], -1).T


def _orthogonality_np(a):
    v = _columns_np(a)
    return ((v.T @ v - np.eye(v.shape[1])) ** 2).sum()


def _tv_np(a):
    return (np.abs(np.diff(a, axis=-2)).sum()
            + np.abs(np.diff(a, axis=-1)).sum())


CATALOGUE = {
    "elastic_net": (lambda x: elastic_net(x, l1_ratio=0.3),
                    lambda a: 0.3 * np.abs(a).sum() + 0.7 * (a ** 2).sum()),
    "group_lasso": (group_lasso, _group_lasso_np),
    "group_lasso_axis0": (lambda x: group_lasso(x, axis=0),
                          lambda a: _group_lasso_np(a, axis=0)),
    "group_lasso_axes": (lambda x: group_lasso(x, axis=(0, -1)),
                         lambda a: _group_lasso_np(a, axis=(0, a.ndim - 1))),
    "orthogonality": (orthogonality, _orthogonality_np),
    "total_variation": (total_variation, _tv_np),
}


@pytest.mark.parametrize("name", sorted(CATALOGUE))
@pytest.mark.parametrize("shape", [(6, 4), (3, 2, 4, 5)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_catalogue_values_against_numpy(name, shape, dtype, rng):
    penalty, reference = CATALOGUE[name]
    data = rng.normal(size=shape).astype(dtype)
    x = T.TensorType(dtype, (False,) * len(shape))("x")
    # a symbolic variable, a numpy array and a shared variable, one compile
    results = [penalty(x), penalty(data), penalty(backend.shared(data))]
    for result in results:
        assert result.ndim == 0 and result.dtype == dtype
    expected = reference(data.astype("float64"))
    for value in evaluate(results, {x: data}):
        np.testing.assert_allclose(
            value, expected, rtol=1e-5 if dtype == "float32" else 1e-12)


@pytest.mark.parametrize("name", sorted(CATALOGUE))
@pytest.mark.parametrize("shape", [(4, 3), (2, 2, 3, 3)])
def test_catalogue_gradients_by_finite_differences(name, shape, rng):
    penalty, _ = CATALOGUE[name]
    # away from kinks: entries bounded away from 0 and from each other
    data = (rng.permutation(np.prod(shape)).reshape(shape) + 1.0) \
        * rng.choice([-1, 1], shape) / np.prod(shape)
    if name == "total_variation":
        data = rng.permutation(np.prod(shape)).reshape(shape) / 7.0
    backend.verify_grad(penalty, [data], rng=np.random.RandomState(2))


def test_gradients_finite_at_the_kinks():
    x = T.matrix()
    zeros_row = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 2.0]])
    flat = np.ones((3, 3))
    for penalty, data, expected in [
            # subgradient 0 at a zero group, gradient x/||x|| elsewhere
            (group_lasso, zeros_row,
             np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 2.0]]) / [[1.0], [3.0]]),
            (group_lasso, np.zeros((2, 3)), np.zeros((2, 3))),
            # subgradient 0 where neighbours are equal
            (total_variation, flat, np.zeros((3, 3))),
            # l1 part: subgradient 0 at 0; l2 part: 2x
            (lambda v: elastic_net(v, l1_ratio=0.5), zeros_row,
             0.5 * np.sign(zeros_row) + zeros_row)]:
        grad = evaluate(backend.grad(penalty(x), x), {x: data})
        assert np.isfinite(grad).all()
        np.testing.assert_allclose(grad, expected, atol=1e-12)


def test_orthogonality_gradient_value(rng):
    # d/dV ||V^T V - I||^2 = 4 V (V^T V - I)
    data = rng.normal(size=(5, 3))
    x = T.matrix()
    grad = evaluate(backend.grad(orthogonality(x), x), {x: data})
    np.testing.assert_allclose(
        grad, 4 * data @ (data.T @ data - np.eye(3)), rtol=1e-10)


def test_elastic_net_ends_are_l1_and_l2(rng):
    data = rng.normal(size=(3, 4))
    np.testing.assert_allclose(evaluate(elastic_net(data, l1_ratio=1)),
                               np.abs(data).sum())
    np.testing.assert_allclose(evaluate(elastic_net(data, l1_ratio=0.0)),
                               (data ** 2).sum())
    assert elastic_net(data.astype("float32"), 0.0).dtype == "float32"


def test_group_lasso_zeroes_rows_keeps_scale():
    # one group per input row of an (inputs, units) matrix
    W = np.array([[3.0, 4.0], [0.0, 0.0]])
    assert float(evaluate(group_lasso(W))) == 5.0
    assert float(evaluate(group_lasso(2 * W))) == 10.0


def test_orthogonality_of_orthonormal_filters(rng):
    q, _ = np.linalg.qr(rng.normal(size=(12, 4)))
    filters = q.T.reshape(4, 3, 2, 2)  # 4 orthonormal filters
    assert abs(float(evaluate(orthogonality(filters)))) < 1e-12
    assert abs(float(evaluate(orthogonality(q)))) < 1e-12


def test_off_diagonal_orthogonality_against_numpy_and_its_gradient():
    W = np.random.default_rng(20).normal(size=(5, 3))
    gram = W.T @ W
    want = (gram ** 2).sum() - (np.diag(gram) ** 2).sum()
    np.testing.assert_allclose(
        float(regkit.orthogonality(W, off_diagonal=True).eval()), want,
        rtol=1e-10)
    # norms are free: scaling orthogonal columns costs nothing
    Q = np.linalg.qr(np.random.default_rng(21).normal(size=(5, 3)))[0]
    assert float(regkit.orthogonality(3 * Q, off_diagonal=True).eval()) \
        == pytest.approx(0.0, abs=1e-9)
    assert float(regkit.orthogonality(3 * Q).eval()) > 1
    backend.verify_grad(lambda w: regkit.orthogonality(w, off_diagonal=True),
                        [W], rng=np.random.RandomState(8))
    # through the helpers, as every penalty
    _, hid, out = mlp(seed=0, out={"nonlinearity": softmax})
    term = regkit.regularize_network_params(out, regkit.orthogonality,
                                            off_diagonal=True)
    assert float(term.eval()) > 0


@pytest.mark.parametrize("call, error, message", [
    (lambda: elastic_net(np.ones(2), l1_ratio=1.5), ValueError,
     r"elastic_net: l1_ratio must be in \[0, 1\], got 1.5"),
    (lambda: elastic_net(np.ones(2), l1_ratio=-0.1), ValueError, "l1_ratio"),
    (lambda: elastic_net(np.ones(2), l1_ratio="half"), TypeError,
     "l1_ratio must be a number"),
    (lambda: elastic_net(np.ones(2), l1_ratio=None), TypeError, "l1_ratio"),
    (lambda: elastic_net(np.ones(2), l1_ratio=True), TypeError, "l1_ratio"),
    (lambda: group_lasso(np.ones((2, 2)), axis=2), ValueError,
     "group_lasso: axis 2 is out of range for a 2-d tensor"),
    (lambda: group_lasso(np.ones((2, 2)), axis=(0, -2)), ValueError,
     "names an axis twice"),
    (lambda: group_lasso(np.ones((2, 2)), axis=()), ValueError,
     "at least one axis"),
    (lambda: group_lasso(np.ones((2, 2)), axis=0.5), TypeError, "axis"),
    (lambda: group_lasso(np.float64(1.0)), ValueError,
     "group_lasso: x must have at least 1 dimensions, got a 0-d"),
    (lambda: orthogonality(np.ones(3)), ValueError,
     "orthogonality: x must have at least 2 dimensions, got a 1-d"),
    (lambda: total_variation(np.ones(3)), ValueError,
     "total_variation: x must have at least 2 dimensions"),
    (lambda: total_variation(np.ones((2, 2), dtype=int)), TypeError,
     "float dtype"),
    (lambda: orthogonality("W"), TypeError, "orthogonality: x must be a "
     "tensor"),
])
def test_catalogue_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()


# -- hardening, round two: safe norms, empty batches, float16 ------------------

def _linker_modes():
    return list(backend.linker_modes().items())


@pytest.mark.parametrize("linker", [name for name, _ in _linker_modes()])
def test_group_norm_gradients_finite_at_zero_and_large_values(linker):
    mode = backend.linker_modes()[linker]
    x = backend.tensor.fmatrix()
    grad = backend.grad(group_lasso(x), x)
    fn = backend.function([x], [group_lasso(x), grad], mode=mode)
    # a zero group has the subgradient 0; a group of 1e20 (whose square
    # overflows float32) has the gradient x / ||x||, not 0
    value, gradient = fn(np.array([[0, 0], [3, 4], [1e19, 0]], "float32"))
    np.testing.assert_allclose(value, 5 + 1e19, rtol=1e-6)
    np.testing.assert_allclose(gradient[:2], [[0, 0], [0.6, 0.8]],
                               rtol=1e-6)
    assert np.isfinite(gradient).all()
    np.testing.assert_allclose(gradient[2], [1, 0], rtol=1e-4)
    if backend.NAME == "theano" or linker != "cvm":
        # PyTensor's C rewrites reorder the product at 1e20 (see the
        # errors page); elsewhere the gradient stays right there too
        value, gradient = fn(np.array([[1e20, 0]], "float32"))
        np.testing.assert_allclose(gradient, [[1, 0]], rtol=1e-4)


def test_group_lasso_still_matches_numpy_with_the_scaled_norm(rng):
    data = rng.normal(size=(5, 4)) * 10.0 ** rng.integers(-3, 3, size=(5, 1))
    np.testing.assert_allclose(
        group_lasso(data).eval(), np.sqrt((data ** 2).sum(-1)).sum(),
        rtol=1e-12)
    backend.verify_grad(group_lasso, [data], rng=np.random.RandomState(3))


def test_kl_sparsity_refuses_a_batch_known_to_be_empty():
    with pytest.raises(ValueError, match="kl_sparsity: h has no examples"):
        kl_sparsity(np.zeros((0, 3)))
    # unknown until run time: NaN, as documented
    h = backend.tensor.matrix()
    assert np.isnan(backend.function([h], kl_sparsity(h))(
        np.zeros((0, 3), backend.floatX)))


@pytest.mark.parametrize("penalty", [l1, l2, group_lasso, kl_sparsity])
def test_float16_is_refused_when_the_graph_is_built(penalty):
    with pytest.raises(TypeError, match="float16; regkit supports float32 "
                                        "and float64"):
        penalty(backend.tensor.matrix(dtype="float16"))
