"""Draw how each penalty shapes a trained weight matrix (docs figure).

A linear model y = x W is fitted by gradient descent to 40 noisy examples
of 16 inputs and 8 outputs, where only the first 6 inputs matter; with
more weights (128) than examples, the unregularized fit is free to use
every weight.  Each penalty function is added through
``regkit.regularize_network_params``, each weight regularizer (L2-SP,
spectral norm, SRIP) through its ``loss`` and ``apply_update_hooks``, and
the trained W is drawn as a heat map (rows: inputs, columns: outputs)
over the histogram of its values.

Run from the repository root (needs the ``demo`` extra for matplotlib)::

    python docs/penalty_shapes.py          # writes docs/_static/penalty_shapes.png
"""
import argparse
import os

import numpy as np

import regkit
from regkit import backend

T = backend.tensor

#: (title, penalty function or Regularizer class, coefficient, keyword
#: arguments of the function or of the class)
SETUPS = [
    ("none", None, 0.0, {}),
    ("l2", regkit.l2, 0.2, {}),
    ("l1", regkit.l1, 0.3, {}),
    ("elastic_net", regkit.elastic_net, 0.3, {"l1_ratio": 0.5}),
    ("group_lasso", regkit.group_lasso, 0.5, {"axis": -1}),
    ("orthogonality", regkit.orthogonality, 1.0, {}),
    ("total_variation", regkit.total_variation, 0.3, {}),
    # towards a W trained (without a penalty) on another sample of the task
    ("l2_sp", regkit.L2SP, 0.5, {"start": "pretrained"}),
    ("spectral_norm", regkit.SpectralNorm, 0.3, {"rng": 0}),
    ("srip", regkit.SRIP, 1.0, {"rng": 0}),
]


def make_data(seed=0, examples=40, inputs=16, outputs=8):
    """Inputs, targets and the true weights (only 6 inputs matter)."""
    rng = np.random.default_rng(seed)
    true_w = np.zeros((inputs, outputs))
    rows, cols = np.meshgrid(np.arange(6), np.arange(outputs), indexing="ij")
    true_w[:6] = np.sin(0.5 * rows + 0.4 * cols)
    x = rng.normal(size=(examples, inputs))
    y = x @ true_w + 0.5 * rng.normal(size=(examples, outputs))
    return x.astype(backend.floatX), y.astype(backend.floatX), true_w


def pretrained(steps=1500):
    """W fitted without a penalty to another sample of the same task: the
    start that L2-SP pulls towards."""
    x, y, _ = make_data(seed=1)
    return train(None, 0.0, {}, x, y, steps)


def train(penalty, coefficient, kwargs, x, y, steps=1500, rate=0.02):
    """W after full-batch gradient descent on mean squared error plus
    ``coefficient * regularize_network_params(net, penalty, **kwargs)``
    for a penalty function, or ``coefficient * penalty(**kwargs).loss``
    for a Regularizer class (its update hooks applied too)."""
    regkit.layers.set_rng(0)
    l_in = regkit.InputLayer((None, x.shape[1]))
    net = regkit.DenseLayer(l_in, y.shape[1], b=None, nonlinearity=None,
                            W=np.zeros((x.shape[1], y.shape[1])) + 0.01,
                            name="linear")
    target = T.matrix("y", dtype=backend.floatX)
    prediction = regkit.get_output(net)
    loss = T.mean(T.sum(T.sqr(prediction - target), axis=1))
    hooks = []
    if isinstance(penalty, type):  # a Regularizer class
        if kwargs.get("start") == "pretrained":
            kwargs = dict(kwargs, start={"linear.W": pretrained(steps)})
        hooks = [penalty(weight=coefficient, **kwargs)]
        loss = loss + regkit.total_penalty(hooks, net, {})
    elif penalty is not None:
        term = regkit.regularize_network_params(net, penalty, **kwargs)
        loss = loss + np.asarray(coefficient, backend.floatX) * term
    step = np.asarray(rate, backend.floatX)
    updates = regkit.apply_update_hooks(
        hooks, net, [(net.W, net.W - step * backend.grad(loss, net.W))])
    fit = backend.function([l_in.input_var, target], loss,
                           updates=list(updates.items()))
    for _ in range(steps):
        fit(x, y)
    return net.W.get_value()


def draw(weights, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # two bands of panels, each a row of heat maps over a row of histograms
    columns = (len(weights) + 1) // 2
    fig, axes = plt.subplots(4, columns, figsize=(2.3 * columns, 9.0),
                             gridspec_kw={"height_ratios": [2, 1, 2, 1]})
    limit = max(np.abs(w).max() for w in weights.values())
    bins = np.linspace(-limit, limit, 41)
    for ax in axes[2:, len(weights) - columns:].ravel():
        ax.axis("off")  # the empty end of the second band
    for index, (title, w) in enumerate(weights.items()):
        band, column = divmod(index, columns)
        top, bottom = axes[2 * band, column], axes[2 * band + 1, column]
        top.imshow(w, cmap="RdBu_r", vmin=-limit, vmax=limit,
                   interpolation="nearest")
        top.set_title(title, fontsize=9)
        top.set_xticks([])
        top.set_yticks([])
        bottom.hist(w.ravel(), bins=bins, color="0.3")
        bottom.set_yscale("log")
        bottom.set_ylim(0.8, w.size)
        bottom.tick_params(labelsize=7)
        near_zero = np.mean(np.abs(w) < 1e-3)
        bottom.set_xlabel("%.0f%% |w| < 1e-3" % (100 * near_zero), fontsize=8)
    for band in (0, 2):
        axes[band, 0].set_ylabel("inputs (rows)", fontsize=8)
        axes[band + 1, 0].set_ylabel("count", fontsize=8)
    fig.suptitle("Trained W (16 inputs x 8 outputs; only the first 6 inputs "
                 "matter) under each penalty", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--output", default=os.path.join(
        here, "_static", "penalty_shapes.png"))
    parser.add_argument("--steps", type=int, default=1500)
    args = parser.parse_args(argv)
    x, y, true_w = make_data()
    weights = {"true W": true_w}
    for title, penalty, coefficient, kwargs in SETUPS:
        weights[title] = train(penalty, coefficient, kwargs, x, y, args.steps)
        w = weights[title]
        print("%-16s |W|_F %.2f  rows 7-16 mean |w| %.4f  near-zero %.0f%%"
              % (title, np.sqrt((w ** 2).sum()), np.abs(w[6:]).mean(),
                 100 * np.mean(np.abs(w) < 1e-3)))
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    draw(weights, args.output)
    print("wrote", args.output)


if __name__ == "__main__":
    main()
