"""The graph walk, static shapes and types (regkit/backend/graph.py)."""
import numpy as np

from regkit import backend


def test_graph_inputs_and_clone_replace():
    T = backend.tensor
    x = T.vector("x")
    w = backend.shared(np.ones(2), name="w")
    y = (x * w).sum()
    found = backend.graph_inputs([y])
    assert x in found and w in found
    z = backend.clone_replace(y, {x: 2 * x})
    assert backend.function([x], z)(np.array([1.0, 2.0])) == 6.0


def test_is_tensor():
    assert backend.is_tensor(backend.tensor.matrix())
    assert backend.is_tensor(backend.shared(np.zeros(2)))
    assert not backend.is_tensor(np.zeros(2))
    assert not backend.is_tensor(None)
    assert not backend.is_tensor("x")


def test_static_shape():
    T = backend.tensor
    assert backend.static_shape(backend.as_tensor_variable(
        np.ones((2, 5)))) == (2, 5)
    assert backend.static_shape(T.matrix()) == (None, None)
    assert backend.static_shape(T.col()) == (None, 1)
    # a shared variable's value may change: its size is not fixed
    assert backend.static_shape(backend.shared(np.ones((2, 5)))) == (
        None, None)


def test_graph_inputs_in_lasagnes_order():
    T = backend.tensor
    W1, W2, x, y, z = [backend.shared(np.ones((2, 2)), name=n)
                       for n in ("W1", "W2", "x", "y", "z")]

    def names(*exprs):
        return [v.name for v in backend.graph_inputs(exprs)
                if isinstance(v, backend.SharedVariable)]

    assert names(T.dot(W1, W2)) == ["W1", "W2"]
    assert names(x ** 2 + T.log(y)) == ["x", "y"]
    assert names(T.dot(T.dot(x, y * W1), z + W2 * x)) == [
        "x", "y", "W1", "z", "W2"]
    assert names(W2 + y, T.dot(W1, x)) == ["W2", "y", "W1", "x"]
