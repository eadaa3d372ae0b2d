"""What a parametrization costs per training step.

One SGD step (loss, gradient, update) of a linear layer ``tanh(X @ W)``
with a square n x n weight and a batch of 64, with ``W`` plain and under
each parametrization: WeightNorm, Orthogonal with the Cayley transform,
the matrix exponential (PyTensor only) and n Householder reflections.
Columns: the compile time counting the first call (Numba and JAX
compile there; warm caches: run twice to see them cold and warm), the
best step time (ms), and the step time over the plain step's.  Cayley and the matrix exponential cost O(n**3) per step
(a linear solve, an exponential of an n x n matrix), Householder n
reflections of O(n**2) each; the plain step is O(batch * n**2).

Run: python benchmarks/bench_parametrize.py [--sizes 32 64 128 256]
     [--linker cvm]
"""
import argparse
import time

import numpy as np

from _common import best_time, header, table

import regkit
from regkit import backend

FORMS = ["plain", "weight_norm", "cayley", "matrix_exp", "householder"]


def _step(n, form, mode):
    T = backend.tensor
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    W = backend.shared(q, name="W")
    x, y = T.matrix("x"), T.matrix("y")
    loss = T.mean((T.tanh(T.dot(x, W)) - y) ** 2)
    params = [W]
    if form != "plain":
        make = (regkit.WeightNorm("W", axis=1) if form == "weight_norm"
                else regkit.Orthogonal("W", method=form))
        p = regkit.parametrize(loss, [make])
        loss, params = p.apply(loss), p.params
    updates = [(v, v - 0.01 * g) for v, g in zip(params,
                                                   backend.grad(loss, params))]
    X, Y = rng.standard_normal((64, n)), rng.uniform(-0.5, 0.5, (64, n))
    start = time.perf_counter()
    fn = backend.function([x, y], loss, updates=updates, mode=mode)
    fn(X, Y)  # the first call: a JIT linker compiles here
    compile_s = time.perf_counter() - start
    return compile_s, best_time(lambda: fn(X, Y), repeat=5)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 128, 256])
    parser.add_argument("--linker", default="cvm",
                        choices=sorted(backend.linker_modes()))
    args = parser.parse_args(argv)
    for n in args.sizes:
        if not 1 <= n <= regkit.parametrizations.MAX_ORTHOGONAL_SIZE:
            parser.error("--sizes: 1 to %d, got %d"
                         % (regkit.parametrizations.MAX_ORTHOGONAL_SIZE, n))
    mode = backend.linker_modes()[args.linker]
    forms = [f for f in FORMS
             if backend.NAME == "pytensor" or f != "matrix_exp"]
    header("one SGD step of tanh(X @ W), W n x n, batch 64, linker %s"
           % args.linker)
    rows = []
    for n in args.sizes:
        plain = None
        for form in forms:
            compile_s, step = _step(n, form, mode)
            plain = step if form == "plain" else plain
            rows.append([n, form, compile_s, step * 1e3, step / plain])
    table(["n", "form", "compile + 1st call s", "step ms", "/ plain"], rows)


if __name__ == "__main__":
    main()
