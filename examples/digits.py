"""regkit demo: what regularization does to an MLP that can overfit.

The 8x8 handwritten digits that ship with scikit-learn (1,797 images, no
download) are split into a small training set (200 images by default) and a
held-out test set (the rest).  The same MLP (64-256-256-10, rectified
units) is trained with minibatch SGD with momentum, once without
regularization and once for each regkit setup below; every run starts from
the same weights and sees the same minibatches.

It prints one table row per setup (train and test accuracy and loss, the
norm of all weights, the share of near-zero weights, seconds) and writes a
PNG with four panels: the test loss per epoch of every setup, the training
loss per epoch, the final test loss and accuracy of each setup, and the
distribution of the weights' magnitudes.  Progress is a bar per setup on a
terminal, one line per setup otherwise (in logs).

Run it with ``make demo``, or inside an environment with regkit, a backend
and the ``demo`` extra (``pip install ".[pytensor,demo]"`` in a clone)::

    python examples/digits.py [--epochs 100] [--train-size 200] [--seed 0]
"""
import argparse
from collections import OrderedDict
import os
import sys
import time
import warnings

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
    # weight_l2's coefficient ramps from 0 to 1e-3 over the first 20
    # epochs (the schedule's step is the epoch), in the same compiled
    # function throughout
    ("l2_warmup", ({"weight_l2": regkit.schedules.Linear(0.0, 1e-3, 20)},
                   None)),
])

#: The setup whose audit the demo prints before training.
AUDITED = "l2+dropout+max_norm"

#: Setups run only when asked for (``--setups spectral_norm ...``): the
#: newer regularizers of the catalogue.  The network's output is its
#: scores, so the confidence penalty reads their softmax, ``"out:prob"``.
#: L2-SP fine-tunes from hidden weights pretrained on a related task (odd
#: or even digit, on the same training images) and pulls towards them.
EXTRA_SETUPS = OrderedDict([
    ("l2_sp", ({"l2_sp": {"pattern": ["hid1.W", "hid2.W"], "weight": 1e-2,
                          "start": "pretrained"}}, None)),
    ("spectral_norm", ({"spectral_norm": {"weight": 1e-2, "rng": 0}},
                       None)),
    ("drop_connect", ({"drop_connect": {"pattern": ["hid1.W", "hid2.W"],
                                        "weight": 0.3}}, None)),
    ("confidence_penalty", ({"confidence_penalty": {"pattern": "out:prob",
                                                    "weight": 0.5}}, None)),
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
    regkit.set_rng(seed)
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


def regularized_network(keywords, seed, start=None):
    """The network (its output layer) and the regularizers of a setup;
    `start`: parameter name -> initial value (a pretrained start)."""
    l_in, l_out = build_network(seed)
    for name, param in regkit.named_params(l_out):
        if start and name in start:
            param.set_value(start[name])
    # dropout masks follow the run's seed too
    keywords = {key: ({"weight": value, "rng": seed}
                      if key.endswith("dropout") else value)
                for key, value in keywords.items()}
    if "drop_connect" in keywords:
        keywords["drop_connect"] = dict(keywords["drop_connect"], rng=seed)
    if "l2_sp" in keywords:
        keywords["l2_sp"] = dict(keywords["l2_sp"], start=start)
    return l_out, regkit.from_kwargs(l_out, **keywords)


def compile_setup(keywords, extra, seed, rate=0.05, momentum=0.9,
                  linker="cvm", start=None):
    """Build the network and the training and evaluation functions,
    compiled with `linker` (a name from ``backend.linker_modes()``).

    Returns (train, evaluate, weights, labels, epoch): ``train(x, y)``
    returns the data loss and then each penalty term (``labels``, from
    :func:`regkit.penalty_terms`); ``epoch`` is the step of the schedules,
    a shared counter the caller sets to the current epoch."""
    mode = backend.linker_modes()[linker]
    l_out, regs = regularized_network(keywords, seed, start)
    epoch = regkit.step_counter("epoch")
    x, y = T.matrix("x", dtype=backend.floatX), T.ivector("y")
    outputs = regkit.get_outputs(l_out, x, regularizers=regs)
    outputs["out:prob"] = backend.softmax(outputs["out:out"])
    data_loss = cross_entropy(outputs["out:out"], y)
    terms = regkit.penalty_terms(regs, l_out, outputs, step=epoch)
    if extra is not None:
        penalty, coefficient, kwargs = extra
        terms[penalty.__name__] = np.asarray(coefficient, backend.floatX) \
            * regkit.regularize_network_params(l_out, penalty, **kwargs)
    loss = data_loss + regkit.sum_terms(list(terms.values()))
    params = regkit.get_all_params(l_out, trainable=True)
    updates = []
    for param, grad in zip(params, backend.grad(loss, params)):
        velocity = backend.shared(np.zeros_like(param.get_value()))
        step = np.asarray(momentum, param.dtype) * velocity \
            - np.asarray(rate, param.dtype) * grad
        updates += [(velocity, step), (param, param + step)]
    updates = regkit.apply_update_hooks(regs, l_out, updates)
    train = backend.function(
        [x, y], [data_loss] + list(terms.values()), mode=mode,
        updates=list(updates.items()) + regkit.random_updates(outputs))
    clean = regkit.get_output(l_out, x, regularizers=regs,
                              deterministic=True)
    evaluate = backend.function(
        [x, y], [cross_entropy(clean, y),
                 T.mean(T.eq(T.argmax(clean, axis=1), y))], mode=mode)
    weights = regkit.get_all_params(l_out, regularizable=True)
    return train, evaluate, weights, list(terms), epoch


def pretrain(x, labels, seed, epochs, batch_size, linker):
    """The hidden weights of the network trained without regularization on
    `labels` (another task on the same images): a pretrained start."""
    train, _, weights, _, _ = compile_setup({}, None, seed + 1,
                                            linker=linker)
    shuffle = np.random.default_rng(seed + 1)
    for _ in range(epochs):
        order = shuffle.permutation(len(x))
        for begin in range(0, len(order), batch_size):
            batch = order[begin:begin + batch_size]
            train(x[batch], labels[batch])
    return {weight.name: weight.get_value() for weight in weights
            if weight.name in ("hid1.W", "hid2.W")}


def run(name, setup, data, epochs, seed, batch_size=32, progress=True,
        linker="cvm"):
    """Train one setup; returns a dict of curves and final figures.

    `progress`: a bar on a terminal (it stays, one line per setup), a
    plain line per setup when standard error is not a terminal, nothing
    when False.
    """
    from tqdm import tqdm

    x_train, y_train, x_test, y_test = data
    keywords, extra = setup
    start = time.perf_counter()
    pretrained = None
    if any(isinstance(value, dict) and value.get("start") == "pretrained"
           for value in keywords.values()):
        pretrained = pretrain(x_train, y_train % 2, seed, epochs, batch_size,
                              linker)
    train, evaluate, weights, labels, epoch = compile_setup(
        keywords, extra, seed, linker=linker, start=pretrained)
    shuffle = np.random.default_rng(seed)
    curves = {"train": [], "test": [],
              "terms": OrderedDict((label, []) for label in labels)}
    bar = tqdm(range(epochs), desc="%-20s" % name, unit="epoch",
               disable=not (progress and sys.stderr.isatty()))
    for number in bar:
        epoch.set_value(np.int64(number))  # the schedules' step
        order = shuffle.permutation(len(x_train))
        sums = np.zeros(len(labels))
        for begin in range(0, len(order), batch_size):
            batch = order[begin:begin + batch_size]
            sums += train(x_train[batch], y_train[batch])[1:]
        batches = -(-len(order) // batch_size)
        for label, total in zip(labels, sums):  # mean over the epoch
            curves["terms"][label].append(float(total) / batches)
        train_loss, train_acc = evaluate(x_train, y_train)
        test_loss, test_acc = evaluate(x_test, y_test)
        curves["train"].append(float(train_loss))
        curves["test"].append(float(test_loss))
        bar.set_postfix(train="%.3f" % train_loss, test="%.3f" % test_loss)
    seconds = time.perf_counter() - start
    if progress and not sys.stderr.isatty():
        print("%-20s %d epochs in %.1f s: train loss %.3f, test loss %.3f"
              % (name, epochs, seconds, train_loss, test_loss),
              file=sys.stderr, flush=True)
    values = np.concatenate([w.get_value().ravel() for w in weights])
    return {
        "curves": curves,
        "train_acc": float(train_acc),
        "test_acc": float(test_acc),
        "weight_norm": float(np.sqrt(np.sum(values.astype("float64") ** 2))),
        "near_zero": float(np.mean(np.abs(values) < NEAR_ZERO)),
        "magnitudes": np.sort(np.abs(values)),
        "seconds": seconds,
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
    """Five panels: test loss per epoch of every setup (linear scale, the
    unregularized run in black), training loss per epoch (log scale), the
    final test loss and accuracy per setup, the cumulative distribution
    of the weights' magnitudes (which share lies below each size), and
    each penalty term per epoch (the logged terms, log scale)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    # the unregularized run in thick black, the others in the cycle colours
    others = [name for name in names if name != "none"]
    colors = {name: "C%d" % (i % 10) for i, name in enumerate(others)}
    colors["none"] = "black"
    widths = {name: 2.5 if name == "none" else 1.5 for name in names}
    plt.rcParams.update({"font.size": 11})
    fig = plt.figure(figsize=(12, 12.5))
    grid = fig.add_gridspec(3, 2)
    test_ax, train_ax = fig.add_subplot(grid[0, 0]), fig.add_subplot(
        grid[0, 1])
    bar_ax, cdf_ax = fig.add_subplot(grid[1, 0]), fig.add_subplot(grid[1, 1])
    terms_ax = fig.add_subplot(grid[2, :])

    finals = [r["curves"]["test"][-1] for r in results.values()]
    best = min(min(r["curves"]["test"]) for r in results.values())
    for name, r in results.items():
        epochs = np.arange(1, len(r["curves"]["test"]) + 1)
        test_ax.plot(epochs, r["curves"]["test"], color=colors[name],
                     lw=widths[name], label=name)
        train_ax.plot(epochs, r["curves"]["train"], color=colors[name],
                      lw=widths[name], label=name)
    # zoom on where the runs differ: from just under the best test loss to
    # well above the worst final one (the first epochs are off the top)
    test_ax.set_ylim(0.9 * best, best + 2.5 * (max(finals) - best) + 0.05)
    if "none" in results:
        curve = results["none"]["curves"]["test"]
        low = int(np.argmin(curve))
        test_ax.plot(low + 1, curve[low], "o", color="black")
        test_ax.annotate("none: lowest at epoch %d (%.3f),\nthen rises to "
                         "%.3f" % (low + 1, curve[low], curve[-1]),
                         (low + 1, curve[low]), xytext=(0.4, 0.5),
                         textcoords="axes fraction", fontsize=9,
                         arrowprops=dict(arrowstyle="->", color="0.3"))
    test_ax.set_title("Test loss per epoch (lower is better)")
    test_ax.set_xlabel("epoch")
    test_ax.set_ylabel("cross-entropy")
    test_ax.legend(fontsize=9, ncol=2)
    train_ax.set_yscale("log")
    train_ax.set_title("Training loss per epoch (log scale)")
    train_ax.set_xlabel("epoch")
    train_ax.set_ylabel("cross-entropy")

    rows = np.arange(len(names))[::-1]
    bar_ax.barh(rows, finals, color=[colors[n] for n in names])
    for row, name, final in zip(rows, names, finals):
        bar_ax.text(final, row, "  %.3f  (acc %.3f)"
                    % (final, results[name]["test_acc"]), va="center",
                    fontsize=10)
    bar_ax.set_yticks(rows)
    bar_ax.set_yticklabels(names)
    bar_ax.set_xlim(0, max(finals) * 1.6)
    bar_ax.set_title("Final test loss (and test accuracy)")
    bar_ax.set_xlabel("cross-entropy")

    for name, r in results.items():
        magnitudes = r["magnitudes"]
        share = np.arange(1, len(magnitudes) + 1) / len(magnitudes)
        cdf_ax.plot(np.maximum(magnitudes, 1e-7), share, color=colors[name],
                    lw=widths[name], label=name)
    cdf_ax.axvline(NEAR_ZERO, color="0.5", ls=":", lw=1)
    cdf_ax.text(NEAR_ZERO, 0.97, " %g" % NEAR_ZERO, color="0.4",
                va="top", fontsize=9)
    cdf_ax.legend(fontsize=9, loc="upper left")
    cdf_ax.set_xscale("log")
    cdf_ax.set_xlim(1e-6, None)
    cdf_ax.set_ylim(0, 1)
    cdf_ax.set_title("Share of weights below each magnitude")
    cdf_ax.set_xlabel("|weight| (log scale)")
    cdf_ax.set_ylabel("share of all weights")

    styles = ["-", "--", ":", "-."]
    for name, r in results.items():
        for index, (label, values) in enumerate(r["curves"]["terms"].items()):
            values = np.asarray(values)
            if not np.any(values > 0):
                continue  # a term that stays 0 has no place on a log scale
            epochs = np.arange(1, len(values) + 1)
            terms_ax.plot(epochs[values > 0], values[values > 0],
                          color=colors[name], lw=widths[name],
                          ls=styles[index % len(styles)],
                          label="%s: %s" % (name, label))
    terms_ax.set_yscale("log")
    terms_ax.set_title("Each penalty term per epoch (regkit.penalty_terms; "
                       "l2_warmup ramps its weight over 20 epochs)")
    terms_ax.set_xlabel("epoch")
    terms_ax.set_ylabel("weighted term (log scale)")
    if terms_ax.lines:
        terms_ax.legend(fontsize=9, ncol=2)
    fig.suptitle(title, fontsize=13)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
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
    parser.add_argument("--setups", nargs="+",
                        choices=list(SETUPS) + list(EXTRA_SETUPS),
                        default=list(SETUPS),
                        help="setups to run (the default ones; also %s)"
                        % ", ".join(EXTRA_SETUPS))
    parser.add_argument("--linker", default="cvm",
                        choices=sorted(backend.linker_modes()),
                        help="how to compile: every linker gives the same "
                             "numbers; the C linker (cvm) compiles this "
                             "demo fastest on a first run")
    parser.add_argument("--no-progress", action="store_true",
                        help="hide the progress bars and lines")
    args = parser.parse_args(argv)
    # A pip-installed PyTensor finds no BLAS library to link its C code
    # with and says so; it then calls BLAS through numpy's C API, which is
    # plenty for this small network (Theano does the same under regkit).
    warnings.filterwarnings("ignore", category=UserWarning,
                            message="PyTensor could not link to a BLAS")
    if args.epochs < 1:
        parser.error("--epochs must be at least 1, got %d" % args.epochs)

    data = load_data(args.train_size, args.seed)
    print("digits: %d training and %d test images, %d epochs, seed %d, "
          "backend %s, linker %s" % (len(data[0]), len(data[2]), args.epochs,
                                     args.seed, backend.NAME, args.linker))
    if AUDITED in args.setups:
        # what each regularizer of the combined setup touches, before
        # training (regkit.audit compiles nothing)
        l_out, regs = regularized_network(SETUPS[AUDITED][0], args.seed)
        print("audit of %s:\n%s" % (AUDITED, regkit.audit(l_out, regs)))
    results = OrderedDict()
    for name in args.setups:
        setup = SETUPS[name] if name in SETUPS else EXTRA_SETUPS[name]
        results[name] = run(name, setup, data, args.epochs, args.seed,
                            progress=not args.no_progress,
                            linker=args.linker)
    print(table(results))
    folder = os.path.dirname(os.path.abspath(args.output))
    os.makedirs(folder, exist_ok=True)
    plot(results, args.output, "MLP 64-256-256-10 on %d digits, %d epochs"
         % (len(data[0]), args.epochs))
    print("figure: %s" % os.path.abspath(args.output))
    return results


if __name__ == "__main__":
    main()
