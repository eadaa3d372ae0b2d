"""Target 5: get_all_layers / get_all_params on long layer chains.

Prints the time of the graph walk for chains of 1,000 to 10,000 dense
layers and the time per layer, which stays flat when the walk is linear;
then the time to read a hand-written graph with nothing named (its units
and residual sums found, their parameters named: ``named_params``) for
plain and residual chains of 1,000 to 8,000 units.

Run: python benchmarks/bench_walk.py
"""
import time

import numpy as np

import regkit
from regkit import backend
from regkit.layers import DenseLayer, InputLayer, get_all_layers, get_all_params

from _common import best_time, header, table


def chain(depth):
    layer = InputLayer((None, 2))
    w, b = np.ones((2, 2), "float32"), np.zeros(2, "float32")
    for _ in range(depth):
        layer = DenseLayer(layer, 2, W=w, b=b)
    return layer


def main():
    header("Graph walk (target 5: 10,000 layers well under a second, linear)")
    rows = []
    for depth in (1000, 2500, 5000, 10000):
        top = chain(depth)
        start = time.perf_counter()
        layers = get_all_layers(top)
        walk = time.perf_counter() - start
        start = time.perf_counter()
        params = get_all_params(top, regularizable=True)
        collect = time.perf_counter() - start
        assert len(layers) == depth + 1 and len(params) == depth
        rows.append([depth, walk * 1e3, collect * 1e3,
                     walk / depth * 1e6, collect / depth * 1e6])
    table(["layers", "get_all_layers ms", "get_all_params ms",
           "walk us/layer", "params us/layer"], rows)

    header("Reading a graph with nothing named (units found, parameters named)")
    rows = []
    for depth in (1000, 2000, 4000, 8000):
        row = [depth]
        for residual in (False, True):
            top = hand_written(depth, residual)
            seconds = best_time(lambda: regkit.named_params(top), repeat=3)
            assert len(regkit.named_params(top)) == depth * (
                1 if residual else 2)
            row += [seconds * 1e3, seconds / depth * 1e6]
        rows.append(row)
    table(["units", "plain ms", "plain us/unit", "residual ms",
           "residual us/unit"], rows)


def hand_written(depth, residual):
    """tanh(h W + b) repeated `depth` times, nothing named but the input;
    with `residual`, h + tanh(h W) (one sum per block)."""
    T = backend.tensor
    h = T.matrix("x")
    for _ in range(depth):
        W = backend.shared(np.eye(2, dtype=backend.floatX))
        if residual:
            h = h + T.tanh(T.dot(h, W))
        else:
            h = T.tanh(T.dot(h, W) + backend.shared(
                np.zeros(2, backend.floatX)))
    return h


if __name__ == "__main__":
    main()
