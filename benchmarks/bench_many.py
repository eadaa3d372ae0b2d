"""Penalties over many parameter tensors: compile time, first call and
evaluation, one node per tensor (before) against the fused node (after),
on every linker of the backend.

For each count of tensors (default 100, 1,000 and 10,000 tensors of 3x4
float32 values) and each linker, compiles ``[l2 penalty] + gradients``
built two ways:

* ``per tensor``: one ``l2`` node per tensor added by a shallow tree
  (what ``apply_penalty`` built before the fused Op);
* ``fused``: ``apply_penalty(params, l2)``, one fused node per dtype
  and 500 tensors;
* ``outputs only``: the floor of any such function, no penalty at all:
  ``function([], [2 * p for p in params])`` (as many outputs as the
  gradient has).

Each measurement runs in a fresh process with a time limit (default
120 s; a compile that does not finish in time shows as "> limit"), so a
linker's caches from one row do not help the next.  Columns: compile
(graph building, gradient and ``function``), first call, then the best
call of the penalty alone against two numpy floors over the same bytes:
one pass over one contiguous buffer holding every value, and a loop of
one ``np.dot`` per tensor.

``--sgd`` instead times a whole SGD step over 2,000 tensors (a squared
error of a linear model per tensor) with and without an L2 penalty and a
max-norm hook, on the default linker.

``--cold`` gives every row empty compile caches (a temporary
``base_compiledir``): the first call a user meets on a new machine.

Run: python benchmarks/bench_many.py [--counts 100 1000 10000]
     [--linkers ...] [--limit 120] [--sgd] [--cold]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

from _common import best_time, header, table

_CHILD = "REGKIT_BENCH_MANY_CHILD"


def _params(count):
    from regkit import backend
    rng = np.random.default_rng(0)
    return [backend.shared(rng.standard_normal((3, 4)).astype("float32"),
                           name="W%d" % i) for i in range(count)]


def _measure(count, form, linker):
    """Runs in the child process: the figures of one row, as a dict."""
    import regkit
    from regkit import backend
    mode = backend.linker_modes()[linker]
    params = _params(count)
    start = time.perf_counter()
    if form == "fused":
        penalty = regkit.apply_penalty(params, regkit.l2)
    elif form == "per tensor":
        penalty = backend.shallow_sum([regkit.l2(p) for p in params])
    else:  # the floor: as many outputs, no reduction, no gradient
        penalty = regkit.apply_penalty(params[:1], regkit.l2)
        outputs = [p * np.float32(2) for p in params]
        start = time.perf_counter()
        fn = backend.function([], outputs, mode=mode)
        compiled = time.perf_counter() - start
        start = time.perf_counter()
        fn()
        return {"compile": compiled, "first": time.perf_counter() - start,
                "eval": None}
    grads = backend.grad(penalty, params)
    fn = backend.function([], [penalty] + grads, mode=mode)
    compiled = time.perf_counter() - start
    start = time.perf_counter()
    value = fn()[0]
    first = time.perf_counter() - start
    arrays = [p.get_value() for p in params]
    exact = sum(float((a.astype(np.float64) ** 2).sum()) for a in arrays)
    assert abs(float(value) - exact) <= 1e-5 * exact, (value, exact)
    only = backend.function([], penalty, mode=mode)
    evaluation = best_time(only, repeat=5, number=3)
    flat = np.concatenate([a.ravel() for a in arrays]).astype(np.float64)
    one_pass = best_time(lambda: np.dot(flat, flat), repeat=5, number=3)
    wide = [a.ravel() for a in arrays]
    per_tensor = best_time(lambda: sum(float(np.dot(w, w)) for w in wide),
                           repeat=5, number=3)
    return {"compile": compiled, "first": first, "eval": evaluation,
            "one_pass": one_pass, "loop": per_tensor}


def _sgd(count, regularized, linker):
    """Runs in the child process: the best time of one SGD step."""
    import regkit
    from regkit import backend
    T = backend.tensor
    mode = backend.linker_modes()[linker]
    params = _params(count)
    x = T.matrix("x", dtype="float32")  # the parameters' dtype
    loss = regkit.sum_terms([T.mean(T.dot(x, p) ** 2) for p in params])
    if regularized:
        loss = loss + np.float32(1e-4) * regkit.apply_penalty(params,
                                                              regkit.l2)
    updates = {p: p - np.float32(0.01) * g
               for p, g in zip(params, backend.grad(loss, params))}
    if regularized:
        updates = {p: regkit.norm_constraint(new, 3.0)
                   for p, new in updates.items()}
    start = time.perf_counter()
    step = backend.function([x], loss, updates=list(updates.items()),
                            mode=mode)
    compiled = time.perf_counter() - start
    data = np.random.default_rng(1).standard_normal((8, 3)).astype(
        "float32")
    return {"compile": compiled,
            "step": best_time(lambda: step(data), repeat=5, number=3)}


def _run_child(task, limit, cold=False):
    env = dict(os.environ, **{_CHILD: json.dumps(task)})
    if cold:  # empty compile caches (C modules and Numba's on-disk cache)
        base = tempfile.mkdtemp(prefix="regkit-bench-many-")
        for flags in ("THEANO_FLAGS", "PYTENSOR_FLAGS"):
            env[flags] = ",".join(filter(None, [
                env.get(flags), "base_compiledir=" + base]))
    try:
        done = subprocess.run([sys.executable, os.path.abspath(__file__)],
                              capture_output=True, text=True, env=env,
                              timeout=limit)
    except subprocess.TimeoutExpired:
        return None, "> %d s" % limit
    finally:
        if cold:
            shutil.rmtree(base, ignore_errors=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        return None, "fails: %s" % last[:60]
    return json.loads(done.stdout.strip().splitlines()[-1]), ""


def main(argv=None):
    from regkit import backend
    parser = argparse.ArgumentParser()
    parser.add_argument("--counts", type=int, nargs="+",
                        default=[100, 1000, 10000])
    parser.add_argument("--linkers", nargs="+",
                        default=sorted(backend.linker_modes()))
    parser.add_argument("--forms", nargs="+",
                        choices=["per tensor", "fused", "outputs only"],
                        default=["per tensor", "fused", "outputs only"])
    parser.add_argument("--limit", type=int, default=120,
                        help="seconds allowed to one row (at most 3600)")
    parser.add_argument("--sgd", action="store_true")
    parser.add_argument("--cold", action="store_true",
                        help="each row compiles with empty caches")
    args = parser.parse_args(argv)
    if not 1 <= args.limit <= 3600:
        parser.error("--limit must be between 1 and 3600, got %d"
                     % args.limit)
    if any(not 1 <= count <= 100000 for count in args.counts):
        parser.error("--counts must be between 1 and 100,000")
    unknown = set(args.linkers) - set(backend.linker_modes())
    if unknown:
        parser.error("unknown linker(s) %s; this backend has %s"
                     % (sorted(unknown), sorted(backend.linker_modes())))
    if args.sgd:
        header("SGD step over many tensors, with and without L2 + max-norm")
        rows = []
        for count in args.counts:
            for linker in args.linkers:
                plain, why = _run_child(["sgd", count, False, linker],
                                        args.limit, args.cold)
                reg, why_reg = _run_child(["sgd", count, True, linker],
                                          args.limit, args.cold)
                ratio = reg["step"] / plain["step"] if plain and reg else ""
                rows.append([count, linker,
                             plain["compile"] if plain else why,
                             reg["compile"] if reg else why_reg,
                             1e3 * plain["step"] if plain else why,
                             1e3 * reg["step"] if reg else why_reg, ratio])
        table(["tensors", "linker", "compile plain s", "compile reg s",
               "step plain ms", "step reg ms", "reg / plain"], rows)
        return
    header("l2 penalty + gradient over many 3x4 float32 tensors")
    rows = []
    for count in args.counts:
        for linker in args.linkers:
            for form in args.forms:
                got, why = _run_child(["penalty", count, form, linker],
                                      args.limit, args.cold)
                if got is None or got["eval"] is None:
                    rows.append([count, linker, form,
                                 got["compile"] if got else why,
                                 got["first"] if got else "", "", "", ""])
                    continue
                rows.append([count, linker, form, got["compile"],
                             got["first"], 1e3 * got["eval"],
                             got["eval"] / got["one_pass"],
                             got["eval"] / got["loop"]])
    table(["tensors", "linker", "form", "compile s", "first call s",
           "eval ms", "/ one pass", "/ numpy loop"], rows)


if __name__ == "__main__":
    if os.environ.get(_CHILD):
        task = json.loads(os.environ[_CHILD])
        measure = {"penalty": _measure, "sgd": _sgd}[task[0]]
        print(json.dumps(measure(*task[1:])))
    else:
        main()
