"""regkit demo: what regularization does to an MLP that can overfit.

The 8x8 handwritten digits that ship with scikit-learn (1,797 images, no
download) are split into a small training set (200 images by default) and a
held-out test set (the rest).  The same MLP (64-256-256-10, rectified
units) is trained with minibatch SGD with momentum, once without
regularization and once for each regkit setup below; every run starts from
the same weights and sees the same minibatches.

It prints one table row per setup (train and test accuracy, the norm of all
weights, the share of near-zero weights, seconds) and writes a PNG with the
train and test loss per epoch and the histogram of the first-layer weights
of each setup.

Run it with ``make demo``, or inside an environment with regkit, a backend
and the ``demo`` extra (``pip install "regkit[pytensor,demo]"``)::

    python examples/digits.py [--epochs 100] [--train-size 200] [--seed 0]
"""
import argparse
from collections import OrderedDict
import os
import time

import numpy as np

import regkit
from regkit import backend

T = backend.tensor

#: A weight is "near zero" below this magnitude.
NEAR_ZERO = 1e-3

#: name -> (from_kwargs keywords, extra penalty (function, coefficient,
#: keywords) added through regularize_network_params, or None)
SETUPS = OrderedDict([
    ("none", ({}, None)),
    ("weight_l2", ({"weight_l2": 1e-3}, None)),
    ("weight_l1", ({"weight_l1": 1e-4}, None)),
    ("hidden_dropout", ({"hidden_dropout": 0.2}, None)),
    ("max_norm", ({"max_norm": 1.0}, None)),
    ("elastic_net", ({}, (regkit.elastic_net, 2e-4, {"l1_ratio": 0.5}))),
    ("l2+dropout+max_norm", ({"weight_l2": 5e-4, "hidden_dropout": 0.5,
                              "max_norm": 1.0}, None)),
])


def load_data(train_size, seed):
    """(x_train, y_train, x_test, y_test): a random split of the digits."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.data / 16.0).astype(backend.floatX)
    y = digits.target.astype("int32")
    if not 10 <= train_size <= len(x) - 100:
        raise SystemExit("--train-size must be between 10 and %d, got %d"
                         % (len(x) - 100, train_size))
    order = np.random.default_rng(seed).permutation(len(x))
    train, test = order[:train_size], order[train_size:]
    return x[train], y[train], x[test], y[test]


def build_network(seed, hidden=256):
    regkit.layers.set_rng(seed)
    l_in = regkit.InputLayer((None, 64), name="in")
    l_hid1 = regkit.DenseLayer(l_in, hidden, name="hid1")
    l_hid2 = regkit.DenseLayer(l_hid1, hidden, name="hid2")
    l_out = regkit.DenseLayer(l_hid2, 10, nonlinearity=None, name="out")
    return l_in, l_out


def cross_entropy(scores, labels):
    """Mean negative log-likelihood of `labels` under softmax(`scores`),
    computed stably from the scores."""
    top = T.max(scores, axis=1, keepdims=True)
    log_norm = T.log(T.sum(T.exp(scores - top), axis=1, keepdims=True)) + top
    log_prob = scores - log_norm
    return -T.mean(log_prob[T.arange(labels.shape[0]), labels])


def compile_setup(keywords, extra, seed, rate=0.05, momentum=0.9):
    """Build the network and the training and evaluation functions."""
    l_in, l_out = build_network(seed)
    # dropout masks follow the run's seed too
    keywords = {key: ({"weight": value, "rng": seed}
                      if key.endswith("dropout") else value)
                for key, value in keywords.items()}
    regs = regkit.from_kwargs(l_out, **keywords)
    x, y = T.matrix("x", dtype=backend.floatX), T.ivector("y")
    outputs = regkit.get_outputs(l_out, x, regularizers=regs)
    data_loss = cross_entropy(outputs["out:out"], y)
    loss = data_loss + regkit.total_penalty(regs, l_out, outputs)
    if extra is not None:
        penalty, coefficient, kwargs = extra
        loss = loss + np.asarray(coefficient, backend.floatX) \
            * regkit.regularize_network_params(l_out, penalty, **kwargs)
    params = regkit.get_all_params(l_out, trainable=True)
    updates = []
    for param, grad in zip(params, backend.grad(loss, params)):
        velocity = backend.shared(np.zeros_like(param.get_value()))
        step = np.asarray(momentum, param.dtype) * velocity \
            - np.asarray(rate, param.dtype) * grad
        updates += [(velocity, step), (param, param + step)]
    updates = regkit.apply_update_hooks(regs, l_out, updates)
    train = backend.function(
        [x, y], data_loss,
        updates=list(updates.items()) + regkit.random_updates(outputs))
    clean = regkit.get_output(l_out, x, regularizers=regs,
                              deterministic=True)
    evaluate = backend.function(
        [x, y], [cross_entropy(clean, y),
                 T.mean(T.eq(T.argmax(clean, axis=1), y))])
    weights = regkit.get_all_params(l_out, regularizable=True)
    return train, evaluate, weights


def run(name, setup, data, epochs, seed, batch_size=32, progress=True):
    """Train one setup; returns a dict of curves and final figures."""
    from tqdm import tqdm

    x_train, y_train, x_test, y_test = data
    keywords, extra = setup
    start = time.perf_counter()
    train, evaluate, weights = compile_setup(keywords, extra, seed)
    shuffle = np.random.default_rng(seed)
    curves = {"train": [], "test": []}
    bar = tqdm(range(epochs), desc="%-20s" % name, disable=not progress,
               leave=False, unit="epoch")
    for _ in bar:
        order = shuffle.permutation(len(x_train))
        for begin in range(0, len(order), batch_size):
            batch = order[begin:begin + batch_size]
            train(x_train[batch], y_train[batch])
        train_loss, train_acc = evaluate(x_train, y_train)
        test_loss, test_acc = evaluate(x_test, y_test)
        curves["train"].append(float(train_loss))
        curves["test"].append(float(test_loss))
        bar.set_postfix(train="%.3f" % train_loss, test="%.3f" % test_loss)
    values = np.concatenate([w.get_value().ravel() for w in weights])
    return {
        "curves": curves,
        "train_acc": float(train_acc),
        "test_acc": float(test_acc),
        "weight_norm": float(np.sqrt(np.sum(values.astype("float64") ** 2))),
        "near_zero": float(np.mean(np.abs(values) < NEAR_ZERO)),
        "first_layer": weights[0].get_value().ravel(),
        "seconds": time.perf_counter() - start,
    }


def table(results):
    """The results as a Markdown table."""
    lines = ["| setup | train acc | test acc | train loss | test loss | "
             "weight norm | near-zero weights | seconds |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in results.items():
        lines.append("| %s | %.3f | %.3f | %.3f | %.3f | %.1f | %.1f%% | %.1f |"
                     % (name, r["train_acc"], r["test_acc"],
                        r["curves"]["train"][-1], r["curves"]["test"][-1],
                        r["weight_norm"], 100 * r["near_zero"],
                        r["seconds"]))
    return "\n".join(lines)


def plot(results, path, title):
    """Learning curves (top, log scale; the unregularized test loss in
    grey for comparison) and first-layer weight histograms (bottom)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    count = len(results)
    fig, axes = plt.subplots(2, count, figsize=(2.4 * count, 5.0),
                             squeeze=False)
    top_loss = max(max(r["curves"]["test"]) for r in results.values())
    floor = max(1e-4, 0.5 * min(min(r["curves"]["train"])
                                for r in results.values()))
    baseline = "none" if "none" in results else None
    limit = max(np.abs(r["first_layer"]).max() for r in results.values())
    bins = np.linspace(-limit, limit, 61)
    for column, (name, r) in enumerate(results.items()):
        curves, hist = axes[0, column], axes[1, column]
        epochs = np.arange(1, len(r["curves"]["train"]) + 1)
        if baseline is not None and name != baseline:
            curves.plot(epochs, results[baseline]["curves"]["test"],
                        label="test, %s" % baseline, color="0.6", lw=1)
        curves.plot(epochs, r["curves"]["train"], label="train", color="C0")
        curves.plot(epochs, r["curves"]["test"], label="test", color="C3")
        curves.set_yscale("log")
        curves.set_ylim(floor, top_loss * 1.2)
        curves.set_title("%s\ntest acc %.3f" % (name, r["test_acc"]),
                         fontsize=9)
        curves.set_xlabel("epoch", fontsize=8)
        curves.tick_params(labelsize=7)
        hist.hist(r["first_layer"], bins=bins, color="0.3")
        hist.set_yscale("log")
        hist.set_xlabel("first-layer weights", fontsize=8)
        hist.tick_params(labelsize=7)
    axes[0, 0].set_ylabel("cross-entropy", fontsize=8)
    axes[0, 0].legend(fontsize=7)
    if len(results) > 1:
        axes[0, 1].legend(fontsize=7)
    axes[1, 0].set_ylabel("count", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--epochs", type=int, default=100,
                        help="training epochs per setup")
    parser.add_argument("--train-size", type=int, default=200,
                        help="training images (the rest are the test set)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the split, initial weights, "
                             "minibatches and dropout masks")
    parser.add_argument("--output", default="digits.png",
                        help="path of the PNG figure")
    parser.add_argument("--setups", nargs="+", choices=list(SETUPS),
                        default=list(SETUPS), help="setups to run")
    parser.add_argument("--no-progress", action="store_true",
                        help="hide the progress bars")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be at least 1, got %d" % args.epochs)

    data = load_data(args.train_size, args.seed)
    print("digits: %d training and %d test images, %d epochs, seed %d, "
          "backend %s" % (len(data[0]), len(data[2]), args.epochs, args.seed,
                          backend.NAME))
    results = OrderedDict()
    for name in args.setups:
        results[name] = run(name, SETUPS[name], data, args.epochs, args.seed,
                            progress=not args.no_progress)
    print(table(results))
    folder = os.path.dirname(os.path.abspath(args.output))
    os.makedirs(folder, exist_ok=True)
    plot(results, args.output, "MLP 64-256-256-10 on %d digits, %d epochs"
         % (len(data[0]), args.epochs))
    print("figure: %s" % os.path.abspath(args.output))
    return results


if __name__ == "__main__":
    main()
