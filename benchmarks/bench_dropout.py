"""Target 3: BernoulliDropout and GaussianNoise on a 4096x4096 float32
activation, against numpy's Generator doing the same work (drawing the
mask or the noise and applying it).

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
        rows.append([label, seconds * 1e3, floor * 1e3, seconds / floor])
    table(["case", "regkit ms", "numpy ms", "x numpy"], rows)


if __name__ == "__main__":
    main()
