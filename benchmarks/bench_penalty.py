"""Target 1: l1 and l2 over >= 128 MB of float32 weights.

Compares regkit (regularize_network_params, apply_penalty over a list,
WeightL2/WeightL1) with the naive Lasagne form ``sum(T.sum(p ** 2) ...)``
and with the single-pass floor: numpy reading every weight once
(``w.sum()`` on each array).  Also prints the relative error of each
against a float64 reference.

Run: python benchmarks/bench_penalty.py [--mb 134]
"""
import argparse

import numpy as np

import regkit
from regkit import backend
from regkit.layers import DenseLayer, InputLayer, get_all_params, get_outputs

from _common import best_time, header, table

T = backend.tensor


def network(total_mb, width=2048):
    rng = np.random.default_rng(0)
    per_layer = width * width * 4 / 2 ** 20
    depth = max(1, int(round(total_mb / per_layer)))
    layer = InputLayer((None, width))
    for i in range(depth):
        W = rng.standard_normal((width, width), dtype=np.float32) * 0.01
        layer = DenseLayer(layer, width, W=W, b=np.zeros(width, "float32"),
                           name="l%d" % i)
    return layer


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=134.0)
    args = parser.parse_args(argv)
    net = network(args.mb)
    params = get_all_params(net, regularizable=True)
    values = [p.get_value(borrow=True) for p in params]
    megabytes = sum(v.nbytes for v in values) / 2 ** 20
    header("Penalty over %.0f MB of float32 weights in %d tensors "
           "(target 1: within 1.5x the floor)" % (megabytes, len(params)))
    floor = best_time(lambda: [v.sum() for v in values])
    rows = []
    for name, penalty, reference in [
            ("l2", regkit.l2, lambda v: float((v.astype(np.float64) ** 2).sum())),
            ("l1", regkit.l1, lambda v: float(np.abs(v.astype(np.float64)).sum()))]:
        exact = sum(reference(v) for v in values)
        naive_expr = sum(T.sum(p ** 2) if name == "l2" else T.sum(abs(p))
                         for p in params)
        weight_cls = regkit.WeightL2 if name == "l2" else regkit.WeightL1
        cases = [
            ("regularize_network_params",
             regkit.regularize_network_params(net, penalty)),
            ("apply_penalty(list)", regkit.apply_penalty(params, penalty)),
            (weight_cls.__name__, weight_cls().loss(net, get_outputs(net))),
            ("naive sum", naive_expr),
        ]
        for label, expr in cases:
            fn = backend.function([], expr)
            seconds = best_time(fn)
            error = abs(float(fn()) - exact) / exact
            rows.append(["%s %s" % (name, label), str(expr.dtype),
                         seconds * 1e3, floor * 1e3, seconds / floor, error])
    table(["case", "dtype", "ms", "floor ms", "x floor", "rel. error"], rows)


if __name__ == "__main__":
    main()
