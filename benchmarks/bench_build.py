"""Graph-building time of the entry points on large networks.

regkit checks its arguments where they come in (issue 7); this prints how
long building the symbolic graph takes (no compiling) for thousands of
tensors and layers, so that the cost of those checks stays visible.

The second table builds deep MLPs with the role-default regularizers of
``from_kwargs(net, hidden_l1=..., hidden_dropout=...)`` (``get_outputs``
with them, then ``total_penalty``): regkit's share of that work must grow
linearly with depth (goal: at most 5x from 600 to 2,400 layers).  The
"plain" column is ``get_outputs`` without regularizers, the backend's own
cost of building the layers' graph, for comparison.  "by hand" builds the
same nodes as the regularized graph (dense layers, a dropout mask and an
L1 activity term per hidden layer) directly with the backend, without
regkit's layers or regularizers: the floor for that graph, so
"regkit / by hand" is what regkit adds, and "regularized / plain" is
mostly the extra nodes themselves.

Run: python benchmarks/bench_build.py
"""
import time

import numpy as np

import regkit
from regkit import backend

from _common import best_time, header, table


def main():
    header("Graph building (no compile): checks must stay in the noise")
    params = [backend.shared(np.ones((4, 4), "float32"), name="p%d" % i)
              for i in range(10000)]
    net = regkit.InputLayer((None, 4))
    for _ in range(2000):
        net = regkit.DenseLayer(net, 4)
    hidden = regkit.get_all_layers(net)[1:]
    cases = [
        ("apply_penalty, 10,000 tensors",
         lambda: regkit.apply_penalty(params, regkit.l2)),
        ("regularize_network_params, 2,000 layers",
         lambda: regkit.regularize_network_params(net, regkit.l2)),
        ("regularize_layer_params_weighted, 2,000 layers",
         lambda: regkit.regularize_layer_params_weighted(
             {layer: 0.1 for layer in hidden}, regkit.l2)),
        ("get_output, 2,000 layers", lambda: regkit.get_output(net)),
    ]
    table(["graph", "build ms"],
          [[label, best_time(build, repeat=5) * 1e3]
           for label, build in cases])
    depth_table()


def _deep(depth):
    net = regkit.InputLayer((None, 4))
    for _ in range(depth):
        net = regkit.DenseLayer(net, 4)
    return net


def _seconds(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _regularized(net):
    regs = regkit.from_kwargs(net, hidden_l1=1e-4, hidden_dropout=0.5)
    outputs = regkit.get_outputs(net, regularizers=regs)
    return regkit.total_penalty(regs, net, outputs)


def _by_hand(net):
    """The regularized graph of ``_regularized(net)`` built node by node
    with the backend."""
    T = backend.tensor
    layers = regkit.get_all_layers(net)[1:]
    seeds = np.random.SeedSequence(0).spawn(len(layers))
    half = np.asarray(0.5, backend.floatX)
    h, terms = T.matrix("x"), []
    for i, layer in enumerate(layers):
        h = T.maximum(T.dot(h, layer.W) + layer.b, 0)
        if i < len(layers) - 1:  # hidden: L1 of the activity, then dropout
            terms.append(abs(h).sum(axis=1).mean())
            h = h * backend.bernoulli(h.shape, 0.5, h.dtype, seeds[i]) / half
    return regkit.sum_terms(terms) * 1e-4


def depth_table():
    header("Depth: role-default regularizers (hidden_l1, hidden_dropout)")
    rows, times = [], {}
    for depth in (600, 1200, 2400, 5000):
        net = _deep(depth)
        plain = _seconds(lambda: regkit.get_outputs(net))
        times[depth] = _seconds(lambda: _regularized(net))
        by_hand = _seconds(lambda: _by_hand(net))
        rows.append([depth, plain, times[depth], by_hand,
                     times[depth] / plain, times[depth] / by_hand,
                     times[depth] / times[600] * 600 / depth])
    table(["layers", "plain get_outputs s", "regularized s", "by hand s",
           "regularized / plain", "regkit / by hand",
           "time per layer vs 600"], rows)
    print("ratio 2,400 / 600 layers: %.2fx (goal: at most 5x)"
          % (times[2400] / times[600]))


if __name__ == "__main__":
    main()
