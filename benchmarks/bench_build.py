"""Graph-building time of the entry points on large networks.

regkit checks its arguments where they come in (issue 7); this prints how
long building the symbolic graph takes (no compiling) for thousands of
tensors and layers, so that the cost of those checks stays visible.

Run: python benchmarks/bench_build.py
"""
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


if __name__ == "__main__":
    main()
