"""Helpers shared by the benchmark scripts: timing and table printing."""
import gc
import platform
import time

import numpy as np

from regkit import backend


def best_time(fn, repeat=7, number=1):
    """Best wall time of `number` calls of `fn`, over `repeat` runs."""
    fn()  # warm up (compilation, caches)
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def header(title):
    """Print a title line naming the backend, versions and machine."""
    print()
    print("## %s" % title)
    print("backend %s, numpy %s, floatX %s, linker %s, %s, python %s"
          % (backend.NAME, np.__version__, backend.floatX, _linker(),
             platform.machine(), platform.python_version()))


def _linker():
    try:
        return backend.config.linker
    except AttributeError:
        return "?"


def table(columns, rows):
    """Print a Markdown table; floats are shown with 4 significant digits."""
    def cell(value):
        if isinstance(value, float):
            return "%.4g" % value
        return str(value)
    cells = [[cell(v) for v in row] for row in rows]
    widths = [max(len(c) for c in col) for col in zip(columns, *cells)]
    line = "| " + " | ".join(c.ljust(w) for c, w in zip(columns, widths)) + " |"
    print(line)
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths))
              + " |")
