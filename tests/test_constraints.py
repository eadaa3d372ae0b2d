import numpy as np
import pytest

from regkit import backend
from regkit.constraints import (default_norm_axes, norm_constraint,
                                rescale_norms, total_norm_constraint)

from conftest import evaluate

T = backend.tensor
SLACK = 1 + 1e-5


def _norms(a, axes):
    return np.sqrt((a.astype("float64") ** 2).sum(axis=axes))


@pytest.mark.parametrize("shape, axes", [
    ((6, 4), (0,)), ((5, 3, 2), (1, 2)), ((4, 3, 2, 2), (1, 2, 3)),
    ((3, 2, 2, 2, 2), (1, 2, 3, 4))])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_default_axes_bound_every_norm(shape, axes, dtype, rng):
    data = rng.normal(size=shape).astype(dtype)
    before = _norms(data, axes)
    ranked = np.sort(before.ravel())  # a bound between two of the norms
    bound = float(ranked[len(ranked) // 2 - 1] + ranked[len(ranked) // 2]) / 2
    x = T.TensorType(dtype, (False,) * len(shape))("x")
    out = norm_constraint(x, max_norm=bound)
    assert out.dtype == dtype
    value = evaluate(out, {x: data})
    assert value.dtype == dtype and value.shape == shape
    after = _norms(value, axes)
    assert (after <= bound * SLACK).all()
    # big norms land on the bound, small ones are left exactly as they were
    big = before > bound
    assert big.any() and (~big).any()
    np.testing.assert_allclose(after[big], bound, rtol=1e-5)
    small = np.broadcast_to(np.expand_dims(~big, axes), shape)
    assert (value[small] == data[small]).all()
    # the direction of every vector is kept
    np.testing.assert_allclose(
        value / np.expand_dims(after, axes),
        data / np.expand_dims(before, axes), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("norm_axes, axes", [(1, (1,)), ((0, 1), (0, 1)),
                                             ([-1], (1,))])
def test_norm_axes_honoured(norm_axes, axes, rng):
    data = rng.normal(size=(5, 4)) * 2
    value = evaluate(norm_constraint(data, 1.0, norm_axes=norm_axes))
    assert (_norms(value, axes) <= SLACK).all()
    np.testing.assert_allclose(_norms(value, axes).max(), 1.0, rtol=1e-6)


def test_explicit_axes_for_other_ranks(rng):
    bias = rng.normal(size=7) * 5
    value = evaluate(norm_constraint(bias, 2.0, norm_axes=0))
    np.testing.assert_allclose(np.linalg.norm(value), 2.0, rtol=1e-6)
    assert default_norm_axes(1) is None and default_norm_axes(6) is None
    assert default_norm_axes(np.int64(2)) == (0,)
    with pytest.raises(TypeError, match="ndim must be an int"):
        default_norm_axes("2")
    with pytest.raises(ValueError, match="ndim must be non-negative"):
        default_norm_axes(-1)


def test_zero_tensor_stays_zero():
    value = evaluate(norm_constraint(np.zeros((3, 2)), 1.0))
    assert (value == 0).all()
    value = evaluate(norm_constraint(np.zeros((3, 2)), 1.0, epsilon=0))
    assert (value == 0).all()


def test_after_one_sgd_update(rng):
    W = backend.shared(rng.normal(size=(8, 3)).astype(backend.floatX))
    x = T.matrix()
    loss = -T.sum(T.dot(x, W))  # pushes every norm up
    step = W - np.asarray(1.0, W.dtype) * backend.grad(loss, W)
    train = backend.function([x], [], updates=[
        (W, norm_constraint(step, 2.0))])
    train(rng.normal(size=(4, 8)).astype(backend.floatX) * 10)
    assert W.get_value().dtype == backend.floatX
    assert (_norms(W.get_value(), (0,)) <= 2.0 * SLACK).all()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_total_norm_constraint_scales_jointly(dtype, rng):
    data = [rng.normal(size=(4, 3)).astype(dtype) * 3,
            rng.normal(size=(3,)).astype(dtype),
            rng.normal(size=(2, 2, 2, 2)).astype(dtype)]
    xs = [T.TensorType(dtype, (False,) * d.ndim)() for d in data]
    scaled, norm = total_norm_constraint(xs, 2.0, return_norm=True)
    assert norm.dtype == dtype and [s.dtype for s in scaled] == [dtype] * 3
    values = evaluate(scaled + [norm], dict(zip(xs, data)))
    total = np.sqrt(sum((d.astype("float64") ** 2).sum() for d in data))
    np.testing.assert_allclose(values[-1], total, rtol=1e-5)
    factor = 2.0 / total
    for value, d in zip(values[:-1], data):
        np.testing.assert_allclose(value, d * factor, rtol=1e-5)
    after = np.sqrt(sum((v.astype("float64") ** 2).sum()
                        for v in values[:-1]))
    assert after <= 2.0 * SLACK
    # within the bound: unchanged, and a plain list without return_norm
    small = total_norm_constraint(data, total * 2)
    assert isinstance(small, list)
    for value, d in zip(evaluate(small), data):
        assert (value == d).all()


def test_total_norm_constraint_mixed_dtypes_keep_each_dtype(rng):
    a = rng.normal(size=3).astype("float32")
    b = rng.normal(size=3)
    scaled = total_norm_constraint([a, b], 0.5)
    assert [s.dtype for s in scaled] == ["float32", "float64"]


def test_gradient_through_constraint(rng):
    # a constraint is a normal symbolic expression
    data = rng.normal(size=(3, 2)) * 4
    backend.verify_grad(lambda w: norm_constraint(w, 1.0), [data],
                        rng=np.random.RandomState(3))


@pytest.mark.parametrize("call, error, message", [
    (lambda: norm_constraint(np.ones(3), 1.0), ValueError,
     r"norm_constraint: no default norm_axes for a 1-d tensor"),
    (lambda: norm_constraint(np.ones((1,) * 6), 1.0), ValueError,
     "6-d tensor"),
    (lambda: norm_constraint(np.float64(1.0), 1.0), ValueError, "0-d"),
    (lambda: norm_constraint(np.ones((2, 2)), 0.0), ValueError,
     "max_norm must be finite and positive, got 0.0"),
    (lambda: norm_constraint(np.ones((2, 2)), -1), ValueError, "max_norm"),
    (lambda: norm_constraint(np.ones((2, 2)), np.nan), ValueError,
     "max_norm"),
    (lambda: norm_constraint(np.ones((2, 2)), "3"), TypeError,
     "max_norm must be a number"),
    (lambda: norm_constraint(np.ones((2, 2)), 1.0, epsilon=-1), ValueError,
     "epsilon must be finite and non-negative"),
    (lambda: norm_constraint(np.ones((2, 2)), 1.0, norm_axes=2), ValueError,
     "norm_axes 2 is out of range"),
    (lambda: norm_constraint(None, 1.0), TypeError,
     "norm_constraint: tensor_var must be a tensor"),
    (lambda: norm_constraint(np.ones((2, 2), dtype=int), 1.0), TypeError,
     "float dtype"),
    (lambda: total_norm_constraint([], 1.0), ValueError,
     "tensor_vars must not be empty"),
    (lambda: total_norm_constraint(np.ones(3), 1.0), TypeError,
     "tensor_vars must be a list of tensors"),
    (lambda: total_norm_constraint(None, 1.0), TypeError, "tensor_vars"),
    (lambda: total_norm_constraint([np.ones(2), "b"], 1.0), TypeError,
     "item 1 of tensor_vars must be a tensor"),
    (lambda: total_norm_constraint([np.ones(2)], 0), ValueError,
     "max_norm"),
])
def test_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()


# PyTensor's PyTorch linker cannot compile the gradient of `minimum` or
# `maximum` (a shape check yields a Python bool; see the Backends page)
_GRADIENT_LINKERS = [
    pytest.param(name, marks=pytest.mark.xfail(
        raises=AttributeError, strict=True,
        reason="PyTensor's PyTorch linker: gradient of minimum"))
    if name == "PYTORCH" else name for name in backend.linker_modes()]


@pytest.mark.parametrize("linker", _GRADIENT_LINKERS)
def test_norm_constraint_gradient_finite_at_zero_norm(linker):
    W = T.matrix()
    constrained = norm_constraint(W, 1.0)
    grad = backend.grad(constrained.sum(), W)
    fn = backend.function([W], grad, mode=backend.linker_modes()[linker])
    for value in (np.zeros((3, 2)), np.full((3, 2), 1e-30),
                  np.array([[0.0, 3.0], [0.0, 4.0]])):
        assert np.isfinite(fn(value.astype(backend.floatX))).all()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rescale_norms_matches_numpy_and_keeps_dtype(dtype, rng):
    data = rng.normal(size=(4, 3, 2)).astype(dtype)
    data[1] = 0  # a zero filter: its factor sees a norm of exactly 0
    x = T.tensor3("x", dtype=dtype)
    seen = []

    def scale(norms):
        seen.append(norms.ndim)
        return T.cast(2, dtype) / (norms + T.cast(1, dtype))

    value = evaluate(rescale_norms(x, scale), {x: data})
    assert seen == [3] and value.dtype == dtype
    norms = np.sqrt((data.astype("float64") ** 2).sum(axis=(1, 2),
                                                      keepdims=True))
    np.testing.assert_allclose(value, data * (2 / (norms + 1)),
                               rtol=1e-6 if dtype == "float32" else 1e-12)
    assert (value[1] == 0).all()


def test_rescale_norms_is_what_the_norm_hooks_use(rng):
    """MaxNorm, UnitNorm and MinMaxNorm rescale as rescale_norms does with
    their own factor (one implementation of norm rescaling)."""
    import regkit
    data = rng.normal(size=(3, 2))
    net = regkit.DenseLayer(regkit.InputLayer((None, 3)), 2, W=data,
                            name="out")
    hooks = {regkit.MaxNorm(weight=0.5): lambda n: np.minimum(
        1, 0.5 / (n + 1e-7)),
        regkit.UnitNorm(): lambda n: 1 / (n + 1e-7),
        regkit.MinMaxNorm(min_value=0.1, max_value=0.2, weight=1.0):
            lambda n: np.clip(n, 0.1, 0.2) / (n + 1e-7)}
    norms = np.sqrt((data ** 2).sum(axis=0, keepdims=True))
    for hook, factor in hooks.items():
        new = regkit.apply_update_hooks([hook], net, {net.W: net.W * 1})
        np.testing.assert_allclose(evaluate(new[net.W]),
                                   data * factor(norms), rtol=1e-12)


def test_rescale_norms_bad_input():
    with pytest.raises(TypeError, match="scale must be callable"):
        rescale_norms(T.matrix("W"), 2.0)
    with pytest.raises(ValueError, match="no default norm_axes for a 1-d"):
        rescale_norms(T.vector("b"), lambda n: n)
    with pytest.raises(ValueError, match="norm_axes"):
        rescale_norms(T.matrix("W"), lambda n: n, norm_axes=2)


def test_a_nan_column_stays_nan_under_every_norm_hook():
    """A NaN weight has a NaN norm: its column becomes NaN, never a finite
    value scaled by 1 / epsilon, and the other columns are untouched."""
    import regkit
    data = np.array([[3.0, 1.0], [4.0, np.nan], [0.0, 2.0]])
    x = T.matrix("W")
    for hook in (regkit.UnitNorm(), regkit.MaxNorm(weight=1.0),
                 regkit.MinMaxNorm(min_value=1.0, max_value=2.0,
                                   weight=0.7)):
        value = evaluate(hook.constrain(x, (0,), hook.weight), {x: data})
        assert np.isnan(value[:, 1]).all(), type(hook).__name__
        assert np.isfinite(value[:, 0]).all(), type(hook).__name__
    value = evaluate(norm_constraint(x, 1.0), {x: data})
    assert np.isnan(value[:, 1]).all()
