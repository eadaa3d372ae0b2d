"""regkit's AdamW (pytensor-ml's Adam + DecoupledWeightDecay) against
pytensor-ml's own ``adamw_updates``, step after step, in the floatX of the
run: the largest difference between the two runs' weights after 1, 5, 10
and 20 steps.  Both compute the same formula; float32 differs in the last
bits (the order of the operations), and Adam's division by the root of
the second moment carries those bits into the next steps.

Needs pytensor-ml (the newest environment).

Run: PYTENSOR_FLAGS=floatX=float32 python benchmarks/bench_adamw_dtype.py
"""
import importlib.util
import sys

import numpy as np

from _common import header, table

import regkit
from regkit import backend

if importlib.util.find_spec("pytensor_ml") is None:
    print("bench_adamw_dtype: needs pytensor-ml (the newest environment); "
          "skipped")
    sys.exit(0)

from pytensor_ml.activations import ReLU  # noqa: E402
from pytensor_ml.layers import Input, Linear, Sequential  # noqa: E402
from pytensor_ml.optim.rules import adam_updates, adamw_updates  # noqa: E402

T = backend.tensor
STEPS = (1, 5, 10, 20)


def _model(values=None):
    X, y = Input("X", shape=(None, 4)), T.matrix("y")
    net = Sequential(Linear("fc1", n_in=4, n_out=8), ReLU(),
                     Linear("fc2", n_in=8, n_out=2))
    loss = T.mean((net(X) - y) ** 2)
    params = regkit.get_all_params(loss, trainable=True)
    for param in params if values else ():
        param.set_value(values[param.name])
    return X, y, loss, params


def main(lr=1e-2, decay=0.1):
    X, y, loss, params = _model()
    theirs = backend.function([X, y], loss, updates=adamw_updates(
        loss, params, learning_rate=lr, weight_decay=decay,
        mask=lambda p: p.name.endswith("_W")))
    X2, y2, loss2, params2 = _model({p.name: p.get_value() for p in params})
    ours = regkit.apply_update_hooks(
        [regkit.DecoupledWeightDecay(weight=lr * decay)], loss2,
        adam_updates(loss2, params2, learning_rate=lr))
    ours = backend.function([X2, y2], loss2, updates=list(ours.items()))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 4)).astype(backend.floatX)
    t = rng.normal(size=(16, 2)).astype(backend.floatX)
    header("AdamW: pytensor-ml's adamw_updates against Adam + "
           "DecoupledWeightDecay, lr %g, decay %g" % (lr, decay))
    rows = []
    for step in range(1, max(STEPS) + 1):
        theirs(x, t)
        ours(x, t)
        if step in STEPS:
            rows.append([step, "%.2g" % max(
                np.abs(a.get_value() - b.get_value()).max()
                for a, b in zip(params, params2))])
    table(["steps", "max |weight difference|"], rows)


if __name__ == "__main__":
    main()
