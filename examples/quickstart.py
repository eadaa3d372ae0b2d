"""regkit quickstart: a small regression MLP trained with L1 and L2 penalties.

Run it inside an environment with regkit and a backend installed, for
example one that ``make`` created::

    REGKIT_BACKEND=pytensor .venv/pytensor/bin/python examples/quickstart.py

(``make test`` runs it against the installed wheel of each backend.)  It
prints the training loss (data term + penalties) every 50 steps: it goes
down.
"""
import argparse

import numpy as np

import regkit
from regkit import backend

T = backend.tensor


def build(num_inputs, num_hidden, seed):
    regkit.set_rng(seed)
    l_in = regkit.InputLayer((None, num_inputs), name="in")
    l_hid = regkit.DenseLayer(l_in, num_hidden, name="hid")
    l_out = regkit.DenseLayer(l_hid, 1, nonlinearity=None, name="out")
    return l_in, l_hid, l_out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    X = rng.normal(size=(256, 10)).astype(backend.floatX)
    true_w = np.zeros((10, 1))
    true_w[:3, 0] = [1.5, -2.0, 0.5]  # only three inputs matter
    Y = (np.tanh(X @ true_w) + 0.05 * rng.normal(size=(256, 1))).astype(
        backend.floatX)

    l_in, l_hid, l_out = build(10, 32, args.seed)
    x, y = T.matrix("x"), T.matrix("y")
    prediction = regkit.get_output(l_out, x)
    data_loss = T.mean((prediction - y) ** 2)
    l2_term = regkit.regularize_network_params(l_out, regkit.l2)
    l1_term = regkit.regularize_layer_params(l_hid, regkit.l1)
    loss = data_loss + 1e-3 * l2_term + 1e-4 * l1_term

    params = regkit.get_all_params(l_out, trainable=True)
    grads = backend.grad(loss, params)
    updates = [(p, p - np.asarray(0.05, p.dtype) * g)
               for p, g in zip(params, grads)]
    train = backend.function([x, y], [loss, data_loss, l2_term, l1_term],
                             updates=updates)

    print("backend: %s, %d parameters" % (backend.NAME,
                                          regkit.count_params(l_out)))
    print("%6s %10s %10s %10s %10s" % ("step", "loss", "data", "l2", "l1"))
    history = []
    for step in range(args.steps + 1):
        values = train(X, Y)
        history.append(float(values[0]))
        if step % 50 == 0:
            print("%6d %10.5f %10.5f %10.4f %10.4f"
                  % ((step,) + tuple(float(v) for v in values)))
    print("loss went from %.5f to %.5f" % (history[0], history[-1]))
    if not history[-1] < history[0]:
        raise SystemExit("the loss did not decrease")


if __name__ == "__main__":
    main()
