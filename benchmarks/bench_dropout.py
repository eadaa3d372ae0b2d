"""Target 3: BernoulliDropout and GaussianNoise on a 4096x4096 float32
activation, against numpy's Generator doing the same work (drawing the
mask or the noise and applying it); then an SGD step of an MLP with
hidden dropout, where the optimizer needs the draws' shapes, with the
number of draw nodes in the compiled graph (one per draw: none kept only
for a shape) and the cost of dropout against the same step without it.

Run: python benchmarks/bench_dropout.py
"""
import numpy as np

import regkit
from regkit import backend
from regkit.layers import DenseLayer, InputLayer, get_outputs

from _common import best_time, header, table

T = backend.tensor
SHAPE = (4096, 4096)


def compiled(reg):
    x = backend.shared(np.ones(SHAPE, "float32"))
    l_in = InputLayer((None, SHAPE[1]), input_var=T.fmatrix("x"), name="in")
    out = DenseLayer(l_in, 1, W=np.ones((SHAPE[1], 1), "float32"),
                     b=np.zeros(1, "float32"), name="out")
    outputs = get_outputs(out, inputs={l_in: x}, regularizers=[reg])
    return backend.function([], outputs["in:out"],
                            updates=regkit.random_updates(outputs))


def draw_nodes(fn):
    return sum(1 for node in fn.maker.fgraph.toposort()
               if backend.is_random_draw(node))


def main():
    header("Dropout and noise on a 4096x4096 float32 activation "
           "(target 3: within 1.5x numpy's Generator)")
    rng = np.random.default_rng(0)
    x = np.ones(SHAPE, "float32")
    p, std = 0.5, 0.1
    scale = np.float32(1 / (1 - p))

    def numpy_dropout():
        return x * (rng.random(SHAPE, dtype=np.float32) >= p) * scale

    def numpy_noise():
        return x + rng.standard_normal(SHAPE, dtype=np.float32) * np.float32(std)

    rows = []
    for label, reg, floor_fn in [
            ("BernoulliDropout p=0.5", regkit.BernoulliDropout("in:out", p),
             numpy_dropout),
            ("GaussianNoise std=0.1", regkit.GaussianNoise("in:out", std),
             numpy_noise)]:
        fn = compiled(reg)
        seconds = best_time(fn, repeat=5)
        floor = best_time(floor_fn, repeat=5)
        rows.append([label, draw_nodes(fn), seconds * 1e3, floor * 1e3,
                     seconds / floor])
    table(["case", "draw nodes", "regkit ms", "numpy ms", "x numpy"], rows)

    header("SGD step of an MLP 1024-2048-2048-10, batch 1024, float32, "
           "with hidden dropout 0.5 (2 draws)")
    rows = []
    steps = {dropout: sgd_step(dropout) for dropout in (0.5, 0.0)}
    seconds = {dropout: best_time(fn, repeat=5)
               for dropout, fn in steps.items()}
    rows.append(["hidden_dropout=0.5", draw_nodes(steps[0.5]),
                 seconds[0.5] * 1e3, seconds[0.0] * 1e3,
                 seconds[0.5] / seconds[0.0]])
    table(["case", "draw nodes", "step ms", "no-dropout ms", "x no dropout"],
          rows)


def sgd_step(dropout, batch=1024, width=2048):
    rng = np.random.default_rng(0)
    x = backend.shared(rng.standard_normal((batch, 1024), dtype=np.float32))
    y = backend.shared(rng.integers(0, 10, batch).astype("int32"))
    regkit.set_rng(0)
    l_in = InputLayer((None, 1024), input_var=T.fmatrix("x"), name="in")
    hid1 = DenseLayer(l_in, width, name="hid1")
    hid2 = DenseLayer(hid1, width, name="hid2")
    out = DenseLayer(hid2, 10, name="out",
                     nonlinearity=regkit.nonlinearities.softmax)
    for layer in (hid1, hid2, out):
        for param in layer.params:
            param.set_value(param.get_value().astype("float32"))
    regs = regkit.from_kwargs(out, hidden_dropout=dropout or None)
    outputs = get_outputs(out, inputs={l_in: x}, regularizers=regs)
    prob = outputs["out:out"]
    loss = -T.mean(T.log(prob[T.arange(y.shape[0]), y]))
    params = regkit.get_all_params(out, trainable=True)
    updates = [(p, p - np.float32(0.01) * g)
               for p, g in zip(params, backend.grad(loss, params))]
    return backend.function([], loss,
                            updates=updates + regkit.random_updates(outputs))


if __name__ == "__main__":
    main()
