"""Target 2: compile and run the penalty value and its gradient for
networks of many weight tensors.

For 200, 2,000 and 10,000 tensors, compiles ``[l2 penalty] + gradients``
with regkit's ``apply_penalty`` and reports compile time, first-call time
and the growth from 200 to 2,000 tensors (target: at most 15x).  The naive
``sum(...)`` form is tried too: it overflows Python's recursion limit.

PyTensor's default Numba linker cannot compile a function with 1,000 or
more inputs (numba limits tuples to 1,000 items), so on PyTensor the larger
sizes run with the C linker.

Run: python benchmarks/bench_compile.py [--sizes 200 2000 10000]
"""
import argparse
import sys
import time

import numpy as np

import regkit
from regkit import backend

from _common import header, table

T = backend.tensor


def build(count, naive):
    rng = np.random.default_rng(0)
    params = [backend.shared(rng.standard_normal(8).astype("float32"))
              for _ in range(count)]
    if naive:
        penalty = sum(T.sum(p ** 2) for p in params)
    else:
        penalty = regkit.apply_penalty(params, regkit.l2)
    return params, penalty


def measure(count, naive, mode):
    params, penalty = build(count, naive)
    start = time.perf_counter()
    grads = backend.grad(penalty, params)
    fn = backend.function([], [penalty] + grads, mode=mode)
    compiled = time.perf_counter() - start
    start = time.perf_counter()
    value = fn()[0]
    first = time.perf_counter() - start
    expected = sum(float((p.get_value().astype(np.float64) ** 2).sum())
                   for p in params)
    assert abs(value - expected) <= 1e-4 * expected
    return compiled, first


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+",
                        default=[200, 2000, 10000])
    parser.add_argument("--linker", choices=["default", "c"],
                        default="default",
                        help="default: the backend's own (Numba on PyTensor,"
                             " switching to C from 1,000 tensors); c: the C "
                             "linker throughout")
    args = parser.parse_args(argv)
    header("Compile penalty + gradient for many tensors (target 2: no "
           "RecursionError, <= 15x from 200 to 2,000)")
    limit = sys.getrecursionlimit()
    rows, compile_times = [], {}
    for count in args.sizes:
        mode = None
        if args.linker == "c" or (backend.NAME == "pytensor"
                                  and count >= 1000):
            mode = backend.c_linker_mode()
        for naive in (False, True):
            label = "naive sum" if naive else "regkit"
            try:
                compiled, first = measure(count, naive, mode)
            except RecursionError:
                rows.append([count, label, "RecursionError", "", ""])
                continue
            if not naive:
                compile_times[count] = compiled
            rows.append([count, label, compiled, first,
                         "C" if mode is not None else "default"])
    assert sys.getrecursionlimit() == limit
    table(["tensors", "form", "compile s", "first call s", "linker"], rows)
    if 200 in compile_times and 2000 in compile_times:
        print("compile growth 200 -> 2,000 tensors: %.1fx"
              % (compile_times[2000] / compile_times[200]))


if __name__ == "__main__":
    main()
