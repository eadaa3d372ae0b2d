"""The fused reductions over many tensors, total_sum_of_squares and
total_sum_of_abs (regkit/backend/fused.py): values against numpy at the
edges, gradients by finite differences, every linker, bad input."""
import numpy as np
import pytest

import regkit
from regkit import backend
from regkit.backend import fused

T = backend.tensor

TOTALS = {
    "sqr": (backend.total_sum_of_squares,
            lambda arrays: sum(float((a.astype(np.float64) ** 2).sum())
                               for a in arrays),
            lambda a: 2 * a),
    "abs": (backend.total_sum_of_abs,
            lambda arrays: sum(float(np.abs(a.astype(np.float64)).sum())
                               for a in arrays),
            np.sign),
}

#: Shapes at the edges: a scalar, 1-D, N-D, empty, one of a single
#: element, and one larger than a gathering chunk of ``perform``.
SHAPES = [(), (5,), (3, 4), (2, 3, 2, 2), (0, 3), (1,), (fused._CHUNK + 3,)]


def _arrays(dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape).astype(dtype) for shape in SHAPES]


def _node_count(exprs):
    return len({v.owner for v in backend.ancestors(list(exprs))
                if v.owner is not None})


@pytest.mark.parametrize("linker", sorted(backend.linker_modes()))
def test_totals_match_numpy_with_their_gradients_on_every_linker(linker):
    # both kinds and both dtypes in one function: one compile per linker
    cases, outputs = [], []
    for kind in sorted(TOTALS):
        for dtype in ("float32", "float64"):
            arrays = _arrays(dtype, seed=len(cases))
            shared = [backend.shared(a) for a in arrays]
            total = TOTALS[kind][0](shared)
            assert total.dtype == dtype and total.ndim == 0
            cases.append((kind, dtype, arrays))
            outputs += [total] + backend.grad(total, shared)
    fn = backend.function([], outputs, mode=backend.linker_modes()[linker])
    for _ in range(2):  # the second call reuses the kernels' buffers
        got = iter(fn())
        for kind, dtype, arrays in cases:
            _, value_np, grad_np = TOTALS[kind]
            rtol = 1e-6 if dtype == "float32" else 1e-12
            total = np.asarray(next(got))  # MLX returns its own arrays
            assert total.dtype == dtype
            np.testing.assert_allclose(total, value_np(arrays), rtol=rtol,
                                       err_msg=kind + dtype)
            for array in arrays:
                grad = np.asarray(next(got))
                assert grad.dtype == dtype and grad.shape == array.shape
                np.testing.assert_allclose(grad, grad_np(array), rtol=rtol)


@pytest.mark.parametrize("kind", sorted(TOTALS))
def test_zero_tensors_give_zero_and_a_zero_gradient(kind):
    total_fn = TOTALS[kind][0]
    zeros = [backend.shared(np.zeros(shape)) for shape in [(3,), (2, 2)]]
    total = total_fn(zeros)
    values = backend.function([], [total] + backend.grad(total, zeros))()
    assert float(values[0]) == 0.0
    for grad in values[1:]:
        assert not np.any(grad)


def test_float32_totals_accumulate_in_float64():
    # 4,096 float32 tensors of 1,024 equal values: a float32 accumulator is
    # off by about 1e-4 here, a float64 one by one rounding at the end
    arrays = [np.full(1024, 0.01, dtype="float32") for _ in range(4096)]
    got = backend.total_sum_of_squares(arrays).eval()
    assert got.dtype == np.float32
    exact = 4096 * 1024 * float(np.float32(0.01)) ** 2
    assert abs(float(got) / exact - 1) < 1e-7


def test_a_tensor_listed_twice_counts_twice_in_value_and_gradient():
    w = backend.shared(np.array([1.0, -2.0]))
    total = backend.total_sum_of_squares([w, w, 2 * w])
    value, grad = backend.function([], [total, backend.grad(total, w)])()
    assert float(value) == 6 * 5.0
    np.testing.assert_allclose(grad, 12 * w.get_value())


def test_mixed_float_dtypes_reduce_apart_and_upcast_once():
    total = backend.total_sum_of_squares(
        [np.ones(2, dtype="float32"), np.ones(3, dtype="float64")])
    assert total.dtype == "float64"
    assert float(total.eval()) == 5.0


@pytest.mark.parametrize("kind", sorted(TOTALS))
def test_gradients_by_finite_differences(kind):
    rng = np.random.default_rng(4)
    # away from 0, where sign(x) has no derivative
    values = [rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1, 1], shape)
              for shape in [(3,), (2, 3), (2, 1, 2)]]
    total_fn = TOTALS[kind][0]
    backend.verify_grad(lambda a, b, c: total_fn([a, b, c]), values,
                        rng=np.random.RandomState(0))


def test_one_node_however_many_tensors():
    # the fused penalty and its gradients are one node per 500 tensors
    # (before: per tensor a reduction, its place in the tree of additions
    # and, in the gradient, the indexing that takes its term back out of
    # that tree and an elementwise product)
    def sizes(count, fused_form):
        params = [backend.shared(np.ones(3)) for _ in range(count)]
        total = regkit.apply_penalty(params, regkit.l2) if fused_form \
            else backend.shallow_sum([regkit.l2(p) for p in params])
        return _node_count([total]), _node_count(backend.grad(total, params))
    small, large = sizes(10, True), sizes(1000, True)
    assert small[0] == 1 and large[0] <= 2 + 2  # and their sum
    assert large[1] - small[1] <= 10  # not 1,000s
    before = sizes(1000, False)
    assert before[0] > 1000 and before[1] > large[1]


@pytest.mark.skipif("numba" not in backend.linker_modes(),
                    reason="the backend has no Numba linker")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_numba_runs_nodes_of_at_most_numba_fused_inputs(dtype):
    # Numba lowers a call of more than 30 arguments in time quadratic in
    # its length, so its linker splits the nodes; the values, gradients
    # and the C linker's graph are those of one node
    count = 2 * fused.NUMBA_FUSED_INPUTS + 5
    rng = np.random.default_rng(3)
    arrays = [rng.normal(size=SHAPES[i % 5]).astype(dtype)
              for i in range(count)]
    shared = [backend.shared(a) for a in arrays]
    total = backend.total_sum_of_squares(shared)
    outputs = [total] + backend.grad(total, shared)
    rtol = 1e-6 if dtype == "float32" else 1e-12
    for linker, largest in (("numba", fused.NUMBA_FUSED_INPUTS),
                            ("cvm", count)):
        fn = backend.function([], outputs,
                              mode=backend.linker_modes()[linker])
        sizes = [len(node.inputs) for node in fn.maker.fgraph.toposort()
                 if isinstance(node.op, fused._FusedReduction)]
        assert max(sizes) == largest and sum(sizes) == count
        for _ in range(2):
            got = fn()
            assert got[0].dtype == dtype
            np.testing.assert_allclose(got[0], TOTALS["sqr"][1](arrays),
                                       rtol=rtol)
            for grad, array in zip(got[1:], arrays):
                np.testing.assert_allclose(grad, 2 * array, rtol=rtol)


def test_lists_longer_than_one_node_takes_are_split(monkeypatch):
    monkeypatch.setattr(fused, "MAX_FUSED_INPUTS", 3)
    arrays = [np.full(2, float(i)) for i in range(8)]
    total = backend.total_sum_of_squares(arrays)
    nodes = [v.owner for v in backend.ancestors([total])
             if v.owner is not None
             and isinstance(v.owner.op, fused._FusedReduction)]
    assert sorted(len(node.inputs) for node in nodes) == [2, 3, 3]
    assert float(total.eval()) == 2 * sum(i * i for i in range(8))


@pytest.mark.parametrize("tensors, error, match", [
    ([], ValueError, "empty"),
    (np.ones(3), TypeError, "list of tensors"),
    ("W", TypeError, "list of tensors"),
    ([np.ones(2, dtype="int64")], TypeError, "float32 or float64"),
    ([np.ones(2, dtype="float16")], TypeError, "float32 or float64"),
    ([np.ones(2), None], TypeError, "item 1 of tensors"),
])
def test_bad_input_is_refused_with_a_clear_error(tensors, error, match):
    with pytest.raises(error, match=match):
        backend.total_sum_of_squares(tensors)


def test_the_op_checks_its_inputs():
    op = fused._FusedReduction("sqr", 2)
    with pytest.raises(ValueError, match="takes 2 tensors, got 1"):
        op(np.ones(2))
    with pytest.raises(TypeError, match="one float dtype"):
        op(np.ones(2, dtype="float32"), np.ones(2))
    with pytest.raises(ValueError, match="'sqr' or 'abs'"):
        fused._FusedReduction("max", 2)


@pytest.mark.parametrize("kind", sorted(TOTALS))
def test_second_derivatives_by_finite_differences(kind):
    # the gradient node has its own gradient: a penalty on the gradient
    # of the penalty (only the first tensor's gradient used: the others
    # are disconnected outputs)
    rng = np.random.default_rng(6)
    values = [rng.uniform(0.5, 2.0, size=shape) * rng.choice([-1, 1], shape)
              for shape in [(3,), (2, 2)]]
    total_fn = TOTALS[kind][0]

    def first_gradient_squared(a, b):
        grads = backend.grad(total_fn([a, b]) * 1.5, [a, b])
        return (grads[0] ** 2).sum() + (a * b.sum()).sum()
    backend.verify_grad(first_gradient_squared, values,
                        rng=np.random.RandomState(1))


def test_gradients_come_from_one_node_per_chunk(monkeypatch):
    monkeypatch.setattr(fused, "_GRAD_CHUNK", 2)
    arrays = [np.full(2, float(i)) for i in range(5)]
    shared = [backend.shared(a) for a in arrays]
    grads = backend.grad(backend.total_sum_of_squares(shared), shared)
    nodes = {g.owner for g in grads}
    assert all(isinstance(n.op, fused._FusedGradient) for n in nodes)
    assert sorted(len(n.outputs) for n in nodes) == [1, 2, 2]
    for array, value in zip(arrays, backend.function([], grads)()):
        np.testing.assert_allclose(value, 2 * array)
