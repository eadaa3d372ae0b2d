"""regkit example: a deep linear network with and without Orthogonal.

A stack of `depth` square linear layers (16 units, no biases, no
nonlinearity) learns a fixed orthogonal map of its input from 256 examples
with plain SGD.  Every layer starts orthogonal (the Q of a QR
decomposition).  Trained as they are, the weights leave orthogonality at
the first steps and the loss stalls; under ``regkit.Orthogonal`` (Cayley
or Householder) every layer stays orthogonal to float rounding at every
step.  (An orthogonal parametrization keeps each layer's determinant, +1
or -1: the target is given the product's, so that it can be reached.)

It prints, per setup, the final loss and the largest deviation from
orthogonality over the layers, and writes a PNG with two panels: the
training loss per step and that deviation per step (log scales).

Run it inside an environment with regkit, a backend and the ``demo`` extra
(matplotlib)::

    python examples/orthogonal.py [--depth 16] [--steps 200] [--lr 0.02]
        [--output orthogonal.png]
"""
import argparse
import os

import numpy as np

import regkit
from regkit import backend

T = backend.tensor
WIDTH = 16
SETUPS = ["plain", "cayley", "householder"]


def _gap(w):
    return float(np.abs(w.T @ w - np.eye(w.shape[1])).max())


def train(setup, depth, steps, lr, seed=0):
    """(losses, deviations) per step of one setup."""
    rng = np.random.default_rng(seed)
    starts = [np.linalg.qr(rng.standard_normal((WIDTH, WIDTH)))[0]
              for _ in range(depth)]
    target, _ = np.linalg.qr(rng.standard_normal((WIDTH, WIDTH)))
    # an orthogonal parametrization keeps each layer's determinant (+1 or
    # -1, that of its start): give the target the product's
    if np.sign(np.linalg.det(target)) != np.prod(
            [np.sign(np.linalg.det(s)) for s in starts]):
        target[:, 0] *= -1
    X = rng.standard_normal((256, WIDTH))
    Y = X @ target
    x, y = T.matrix("x"), T.matrix("y")
    layer = regkit.InputLayer((None, WIDTH), input_var=x, name="in")
    for i, start in enumerate(starts):
        layer = regkit.DenseLayer(layer, WIDTH, W=start, b=None,
                                  nonlinearity=None, name="l%d" % i)
    weights = [l.W for l in regkit.get_all_layers(layer)[1:]]
    loss = T.mean(T.sum((regkit.get_output(layer) - y) ** 2, axis=1))
    params = list(weights)
    shown = list(weights)
    if setup != "plain":
        p = regkit.parametrize(layer, [regkit.Orthogonal("l*.W",
                                                         method=setup)])
        loss, params = p.apply(loss), p.trainable(params)
        shown = [p.replacements[w] for w in weights]
    updates = [(v, v - lr * g) for v, g in zip(params,
                                                backend.grad(loss, params))]
    step = backend.function([x, y], [loss] + shown, updates=updates,
                            mode=backend.c_linker_mode())
    losses, gaps = [], []
    for _ in range(steps):
        value, *ws = step(X, Y)
        losses.append(float(value))
        gaps.append(max(_gap(np.asarray(w)) for w in ws))
    return losses, gaps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--depth", type=int, default=16)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--lr", type=float, default=0.02)
    parser.add_argument("--output", default="orthogonal.png")
    args = parser.parse_args(argv)
    if not 1 <= args.depth <= 200:
        parser.error("--depth: 1 to 200, got %d" % args.depth)
    if not 1 <= args.steps <= 100000:
        parser.error("--steps: 1 to 100000, got %d" % args.steps)
    if not 0 < args.lr <= 10:
        parser.error("--lr: above 0, at most 10, got %g" % args.lr)
    results = {}
    print("%-12s %12s %14s" % ("setup", "final loss", "max |W'W - I|"))
    for setup in SETUPS:
        losses, gaps = train(setup, args.depth, args.steps, args.lr)
        results[setup] = (losses, gaps)
        print("%-12s %12.4g %14.3g" % (setup, losses[-1], gaps[-1]))
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for setup, (losses, gaps) in results.items():
        left.plot(np.maximum(losses, 1e-30), label=setup)
        right.plot(np.maximum(gaps, 1e-17), label=setup)
    left.set(yscale="log", xlabel="SGD step", ylabel="training loss",
             title="Loss, %d linear layers, lr %g" % (args.depth, args.lr))
    right.set(yscale="log", xlabel="SGD step",
              ylabel="max over layers of max |W^T W - I|",
              title="Distance from orthogonality")
    left.legend()
    right.legend()
    fig.tight_layout()
    folder = os.path.dirname(args.output)
    if folder:
        os.makedirs(folder, exist_ok=True)
    fig.savefig(args.output, dpi=100)
    print("wrote %s" % args.output)
    return results


if __name__ == "__main__":
    main()
