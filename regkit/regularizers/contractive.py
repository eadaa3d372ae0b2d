"""Penalties on derivatives of outputs with respect to inputs: the
contractive penalty (the Jacobian, exact per example, in closed form where
a dense layer allows it) and the R1 gradient penalty."""
from .. import backend
from .._checks import MAX_PROJECTIONS, check_count
from ..penalties import safe_norm
from ..layers.dense import DenseLayer
from ..layers.network import as_network
from ..layers.hooks import NetworkOutputs
from ..regularization import sum_terms
from .activity import _OutputPenalty, _batch_size
from .patterns import _DRAW_SUFFIX, _as_patterns, _resolve, _select_outputs

__all__ = ["Contractive", "R1Penalty", "JacobianProjection"]

T = backend.tensor


class Contractive(_OutputPenalty):
    """Squared Frobenius norm of each example's Jacobian, batch-averaged.

    ``loss = mean_i ||d h_i / d x_i||_F**2`` for each matching output ``h``
    and each output ``x`` chosen by `wrt` that ``h`` depends on (Rifai et
    al., "Contractive auto-encoders", 2011).  This is the exact per-example
    Jacobian, not the gradient of the batch mean that theanets computes.

    For a :class:`~regkit.layers.DenseLayer` whose input is ``x`` and whose
    output is an elementwise function of its activation ``a`` (any
    elementwise nonlinearity, with or without dropout or noise), the closed
    form ``sum_ij (dh_ij/da_ij)**2 * ||W[:, j]||**2 / batch`` is used.  Any
    other output takes a general path that repeats each example once per
    unit of the output and differentiates each copy through its own unit
    (``units`` times the work of one pass, no scan); it assumes that
    examples do not interact (no batch normalization between `x` and
    `h`).

    Parameters
    ----------
    pattern, weight
        See :class:`Regularizer`.
    wrt : str, sequence of str or None
        Glob(s) of the outputs to differentiate by; None means the outputs
        of the input layers.

    Examples
    --------
    A linear hidden layer ``h = x W`` has the Jacobian ``W.T`` for every
    example, so the term is the sum of squares of ``W``:

    >>> import numpy as np
    >>> from regkit import (backend, Contractive, DenseLayer, InputLayer,
    ...                     get_outputs)
    >>> l_in = InputLayer((None, 2), name="in")
    >>> hid = DenseLayer(l_in, 2, W=np.array([[1.0, 2.0], [0.0, 3.0]]),
    ...                  nonlinearity=None, name="hid")
    >>> net = DenseLayer(hid, 1, name="out")
    >>> outputs = get_outputs(net)
    >>> term = Contractive("hid:out").loss(net, outputs)
    >>> float(term.eval({l_in.input_var: np.ones((3, 2), backend.floatX)}))
    14.0
    """

    def __init__(self, pattern=None, weight=0.0, wrt=None):
        super(Contractive, self).__init__(pattern, weight)
        patterns = _as_patterns(wrt, "Contractive: wrt")
        self.wrt = wrt if isinstance(wrt, str) or wrt is None else patterns

    def get_config(self):
        config = super(Contractive, self).get_config()
        config["wrt"] = list(self.wrt) if isinstance(self.wrt, tuple) \
            else self.wrt
        return config

    def _wrt_names(self, layers, outputs):
        names = _select_outputs(
            _resolve(self.wrt, ("input",), layers, outputs), outputs)
        if not names:
            self._no_match("output", "wrt", self.wrt)
        return names

    def loss(self, layers, outputs):
        chosen = self.output_names(layers, outputs)
        if not chosen:
            return 0
        # resolved once for all the chosen outputs, from the network's
        # record: get_outputs' own, or (for a plain dict) the network's
        record = getattr(outputs, "network", None) \
            or as_network(layers, type(self).__name__)
        by_name = outputs.layers if isinstance(outputs, NetworkOutputs) \
            else record.by_name
        names = {layer: name for name, layer in by_name.items()}
        # a dense layer -> the name of the layer it reads (closed form)
        input_names = {layer: names.get(record.sources(layer)[0])
                       for layer in names if isinstance(layer, DenseLayer)}
        wrt_names = self._wrt_names(layers, outputs)
        return sum_terms(self._term(self.checked_output(outputs, name),
                                    name, outputs, input_names, by_name,
                                    wrt_names) for name in chosen)

    @staticmethod
    def _term(h, name, outputs, input_names, by_name, wrt_names):
        prefix = name.rsplit(":", 1)[0]
        layer = by_name.get(prefix)
        terms = []
        for wrt_name in wrt_names:
            x = outputs[wrt_name]
            if not backend.depends_on(h, x):
                continue
            closed = None
            if input_names.get(layer) is not None \
                    and wrt_name == "%s:out" % input_names[layer]:
                closed = _dense_jacobian_norm(h, outputs.get(prefix + ":pre"),
                                              layer.W)
            terms.append(closed if closed is not None
                         else _jacobian_norm(h, x))
        return sum_terms(terms)


class R1Penalty(Contractive):
    """Half the squared norm of the gradient of each example's output with
    respect to its input, batch-averaged: ``mean_i ||d D(x_i) / d x_i||**2
    / 2`` (R1, Mescheder, Geiger and Nowozin, "Which training methods for
    GANs actually converge?", 2018).

    Put it on a discriminator's output for real data: with
    ``weight = gamma`` it is the paper's ``gamma / 2 * E ||grad D||^2``.
    The default pattern is the output layers, `wrt` the input layers (as
    :class:`Contractive`).  For an output with several units per example
    the gradient is that of their sum.  Examples must not interact (no
    batch statistics between input and output).

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import DenseLayer, InputLayer, R1Penalty, get_outputs
    >>> l_in = InputLayer((None, 2), name="in")
    >>> critic = DenseLayer(l_in, 1, W=np.array([[3.0], [4.0]]),
    ...                     nonlinearity=None, name="critic")
    >>> term = R1Penalty().loss(critic, get_outputs(critic, np.ones((5, 2))))
    >>> float(term.eval())  # ||w||^2 / 2 for a linear critic
    12.5
    """

    default_roles = ("output",)

    @staticmethod
    def _term(h, name, outputs, input_names, by_name, wrt_names):
        terms = []
        for wrt_name in wrt_names:
            x = outputs[wrt_name]
            if backend.depends_on(h, x):
                grad = backend.grad(T.sum(h), x)
                terms.append(T.sum(T.sqr(grad)) / (2 * _batch_size(x)))
        return sum_terms(terms)


class JacobianProjection(Contractive):
    """An unbiased random-projection estimate of the :class:`Contractive`
    term, for any network (Hoffman, Roberts and Yaida, "Robust learning
    with Jacobian regularization", 2019).

    For each example, with ``C`` output units and ``v_1 .. v_n`` drawn
    uniformly on the unit sphere of the output space,
    ``C / n * sum_k ||v_k^T J||^2`` has expectation ``||J||_F^2``; each
    projection costs one backward pass, where the exact term costs one per
    output unit.  Its variance falls as ``1 / n_proj``; on the unit sphere
    it is ``2 C / (C + 2) * (||J J^T||_F^2 - ||J||_F^4 / C) / n_proj`` per
    example (0 when every direction is stretched equally), below that of
    Gaussian projections (``2 ||J J^T||_F^2 / n_proj``).  The projections
    are random draws, recorded in the outputs dict under
    ``"<output>-projection"`` when the term is built: the usual recipe,
    ``random_updates(outputs)`` in the training function's updates (after
    the loss is built), gives new ones on every step, and so does
    ``random_updates(outputs, loss)`` or adding ``random_updates(loss)``
    to it (repeats are dropped).

    Parameters
    ----------
    pattern, weight, wrt : see :class:`Contractive`
    n_proj : int
        Projections per example, at least 1 and at most 100 (the paper
        finds 1 enough; each one is a backward pass in the graph).
    rng : int or None
        Seed (None: an independent stream, see :func:`regkit.set_rng`).

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import (DenseLayer, InputLayer, JacobianProjection,
    ...                     get_outputs)
    >>> l_in = InputLayer((None, 2), name="in")
    >>> hid = DenseLayer(l_in, 2, W=np.array([[3.0, 0.0], [0.0, 3.0]]),
    ...                  nonlinearity=None, name="hid")
    >>> out = DenseLayer(hid, 1, name="out")
    >>> term = JacobianProjection("hid:out", rng=0).loss(
    ...     out, get_outputs(out, np.ones((4, 2))))
    >>> round(float(term.eval()), 6)  # J = 3 I: every direction gives 18
    18.0
    """

    draws_random = True

    def __init__(self, pattern=None, weight=0.0, wrt=None, n_proj=1,
                 rng=None):
        super(JacobianProjection, self).__init__(pattern, weight, wrt)
        self.n_proj = check_count(n_proj, "JacobianProjection", "n_proj", 1,
                                   maximum=MAX_PROJECTIONS)
        self._hold_seeds(rng)

    def get_config(self):
        config = super(JacobianProjection, self).get_config()
        config["n_proj"] = self.n_proj
        return config

    def _term(self, h, name, outputs, input_names, by_name, wrt_names):
        flat = h.reshape((h.shape[0], -1))
        units = T.cast(flat.shape[1], h.dtype)
        terms = []
        for wrt_name in wrt_names:
            x = outputs[wrt_name]
            if not backend.depends_on(h, x):
                continue
            total = 0
            for _ in range(self.n_proj):
                v = backend.normal(flat.shape, h.dtype, self.seeds.spawn())
                _keep_draw(outputs, name, v)
                v = v / safe_norm(v, 1, keepdims=True)
                grad = backend.grad(T.sum(flat * v), x)
                total = total + T.sum(T.sqr(grad))
            terms.append(units * total / (self.n_proj * _batch_size(h)))
        return sum_terms(terms)


def _keep_draw(outputs, name, draw):
    """Record the random `draw` made for output `name` in `outputs`, under
    ``"<name>-projection"`` (then ``"<name>#2-projection"``...), so that
    ``random_updates(outputs)`` advances its generator too: the usual
    recipe then gives fresh projections without passing the loss."""
    if not hasattr(outputs, "__setitem__"):
        return
    key, count = name + _DRAW_SUFFIX, 1
    while key in outputs:
        count += 1
        key = "%s#%d%s" % (name, count, _DRAW_SUFFIX)
    outputs[key] = draw


def _dense_jacobian_norm(h, pre, W):
    """Closed form for ``h = g(pre)``, ``pre = dot(x, W) + b`` with `g`
    elementwise; None when `h` is not an elementwise function of `pre`."""
    if pre is None or not _elementwise_between(h, pre):
        return None
    slope = backend.grad(T.sum(h), pre)  # dh_ij / dpre_ij
    column_norms = T.sum(T.sqr(W), axis=0)
    return T.sum(T.sqr(slope) * column_norms) / _batch_size(h)


def _elementwise_between(h, a):
    """Whether every operation from `a` up to `h` is elementwise.  Random
    draws (a dropout mask) are constants for the derivative: the shape they
    read from `a` does not count."""
    draws = [var for var in backend.ancestors([h], blockers=[a])
             if var.owner is not None and backend.is_random_draw(var.owner)]
    for var in backend.ancestors([h], blockers=[a] + draws):
        if var is a or var.owner is None or var in draws:
            continue
        if not isinstance(var.owner.op, backend.Elemwise) \
                and backend.depends_on(var, a):
            return False
    return True


def _jacobian_norm(h, x):
    """sum_i ||d h_i / d x_i||_F^2 / batch without a loop over units.

    Each example is repeated once per unit of `h`; copy ``j`` of example
    ``i`` is differentiated only through unit ``j``, so the gradient with
    respect to the repeated input holds every row of every example's
    Jacobian.  This costs one forward and backward pass over ``batch *
    units`` rows and assumes that examples do not interact.
    """
    flat = h.reshape((h.shape[0], -1))
    units = flat.shape[1]
    stand_in = x.type()  # the repeated input, substituted at the end
    copies = backend.clone_replace(flat, {x: stand_in})
    rows = T.arange(copies.shape[0])
    own_unit = T.sum(copies[rows, rows % units])
    squares = T.sum(T.sqr(backend.grad(own_unit, stand_in)))
    repeated = T.repeat(x, units, axis=0)
    return backend.clone_replace(squares, {stand_in: repeated}) \
        / _batch_size(h)
