"""Target 3: BernoulliDropout and GaussianNoise on a 4096x4096 float32
activation, against numpy's Generator doing the same work (drawing the
mask or the noise and applying it); then the same dropout feeding a dense
layer, where the optimizer needs the draw's shape, with the number of draw
nodes in the compiled graph (1 per draw: none kept only for a shape).

Run: python benchmarks/bench_dropout.py
"""
import numpy as np

import regkit
from regkit import backend
from regkit.layers import DenseLayer, InputLayer, get_outputs

from _common import best_time, header, table

T = backend.tensor
SHAPE = (4096, 4096)


def compiled(reg, name="in:out", units=1):
    x = backend.shared(np.ones(SHAPE, "float32"))
    l_in = InputLayer((None, SHAPE[1]), input_var=T.fmatrix("x"), name="in")
    out = DenseLayer(l_in, units, W=np.ones((SHAPE[1], units), "float32"),
                     b=np.zeros(units, "float32"), name="out")
    outputs = get_outputs(out, inputs={l_in: x}, regularizers=[reg])
    return backend.function([], outputs[name],
                            updates=regkit.random_updates(outputs))


def draw_nodes(fn):
    return sum(1 for node in fn.maker.fgraph.toposort()
               if backend._is_draw(node))


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
    W = np.ones((SHAPE[1], 16), "float32")
    fn = compiled(regkit.BernoulliDropout("in:out", p), "out:out", 16)
    seconds = best_time(fn, repeat=5)
    floor = best_time(lambda: np.maximum(numpy_dropout().dot(W), 0),
                      repeat=5)
    rows.append(["BernoulliDropout 0.5 -> dense 16", draw_nodes(fn),
                 seconds * 1e3, floor * 1e3, seconds / floor])
    table(["case", "draw nodes", "regkit ms", "numpy ms", "x numpy"], rows)


if __name__ == "__main__":
    main()
