"""Target 4: one SGD step of an MLP 1024-4096-4096-10 at batch 64, with
and without ``1e-4 * regularize_network_params(net, l2)``.

Run: python benchmarks/bench_sgd.py
"""
import numpy as np

import regkit
from regkit import backend
from regkit.layers import DenseLayer, InputLayer, get_all_params, get_output

from _common import best_time, header, table

T = backend.tensor


def step_function(with_penalty):
    rng = np.random.default_rng(0)
    l_in = InputLayer((None, 1024), input_var=T.fmatrix("x"))
    layer = l_in
    for units, nonlinearity in [(4096, regkit.nonlinearities.rectify),
                                (4096, regkit.nonlinearities.rectify),
                                (10, regkit.nonlinearities.softmax)]:
        fan_in = layer.output_shape[1]
        W = (rng.standard_normal((fan_in, units), dtype=np.float32)
             * np.float32(np.sqrt(2.0 / fan_in)))
        layer = DenseLayer(layer, units, W=W, b=np.zeros(units, "float32"),
                           nonlinearity=nonlinearity)
    y = T.ivector("y")
    prob = get_output(layer)
    loss = -T.mean(T.log(prob[T.arange(y.shape[0]), y]))
    if with_penalty:
        loss = loss + np.float32(1e-4) * regkit.regularize_network_params(
            layer, regkit.l2)
    params = get_all_params(layer, trainable=True)
    lr = np.float32(0.01)
    updates = [(p, p - lr * g) for p, g in zip(params,
                                               backend.grad(loss, params))]
    return backend.function([l_in.input_var, y], loss, updates=updates)


def main():
    header("SGD step, MLP 1024-4096-4096-10, batch 64 "
           "(target 4: penalty costs at most 1.05x)")
    rng = np.random.default_rng(1)
    X = rng.standard_normal((64, 1024), dtype=np.float32)
    Y = rng.integers(0, 10, size=64).astype("int32")
    plain = step_function(False)
    penalized = step_function(True)
    t_plain = best_time(lambda: plain(X, Y), repeat=15)
    t_pen = best_time(lambda: penalized(X, Y), repeat=15)
    table(["case", "ms per step", "x plain"],
          [["plain", t_plain * 1e3, 1.0],
           ["+ 1e-4 * l2 penalty", t_pen * 1e3, t_pen / t_plain]])


if __name__ == "__main__":
    main()
