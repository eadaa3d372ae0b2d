"""Graph changes that draw random numbers: dropout and noise.

Each one replaces the outputs it selects by a perturbed copy and keeps the
clean value under ``"<name><suffix>"`` (``"hid:out-predrop"``); it leaves
the graph alone when it is built with ``deterministic=True``.  Pass
``random_updates(outputs)`` to the training function so that each call
draws afresh.
"""
import numpy as np

from .. import backend
from .._checks import (check_count, check_fraction, check_seed,
                       check_supported_float, describe, is_int,
                       normalize_axes, short_repr, as_float_tensor)
from ..init import seed_sequence
from ..layers.graph import VariableLayer
from ..layers.merge import ElemwiseSumLayer
from .base import (Regularizer, _CLEAN_SUFFIXES, _MatchCounter, _Seeded,
                   _WeightChange, _check_drop_probability)

__all__ = ["BernoulliDropout", "GaussianNoise", "AlphaDropout", "DropConnect",
           "StochasticDepth", "dropout_mask", "mc_predict"]

# SELU's negative saturation value, -lambda * alpha (Klambauer et al. 2017)
_SELU_SATURATION = -1.0507009873554805 * 1.6732632423543772


class _Stochastic(_Seeded, _MatchCounter, Regularizer):
    """Replaces matching outputs with a randomly perturbed version and keeps
    the clean value under ``"<name><suffix>"`` (each subclass sets
    ``_suffix``)."""

    training_only = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _CLEAN_SUFFIXES.add(cls._suffix)

    def __init__(self, pattern=None, weight=0.0, rng=None, shared_axes=()):
        super(_Stochastic, self).__init__(pattern, weight)
        self._init_seeds(rng)
        self.shared_axes = _check_shared_axes(shared_axes,
                                              type(self).__name__)

    def get_config(self):
        config = super(_Stochastic, self).get_config()
        config["shared_axes"] = list(self.shared_axes)
        return config

    def _draw_shape(self, value):
        """(shape of one draw for `value`, the shared axes): size 1 along
        the shared axes, so that one draw serves all their positions."""
        if not self.shared_axes:
            return value.shape, ()
        axes = normalize_axes(self.shared_axes, value.ndim,
                               type(self).__name__, "shared_axes")
        return [1 if axis in axes else value.shape[axis]
                for axis in range(value.ndim)], axes

    def _draw(self, draw, value, *args):
        """``draw(shape, *args, dtype, seed)`` for `value`, broadcastable
        along the shared axes."""
        shape, axes = self._draw_shape(value)
        drawn = draw(shape, *(args + (value.dtype, self._seed())))
        return backend.specify_broadcastable(drawn, axes) if axes else drawn

    def modify_graph(self, outputs):
        names = [n for n in outputs if self.matches_output(outputs, n)]
        self._hit(names)
        if self.weight == 0:
            return
        for name in names:
            value = check_supported_float(outputs[name], type(self).__name__,
                                           "output %r" % name)
            outputs[name + self._suffix] = value
            outputs[name] = self.perturb(value)


class _Dropout(_Stochastic):
    """A stochastic change whose weight is a drop probability."""

    _suffix = "-predrop"

    def _check_weight(self, weight):
        return _check_drop_probability(
            super(_Dropout, self)._check_weight(weight), type(self).__name__)


class BernoulliDropout(_Dropout):
    """Inverted dropout: zero each value with probability ``weight``.

    While training, kept values are scaled by ``1 / (1 - p)`` so that the
    expected output is unchanged and the inference graph
    (``deterministic=True``) needs no rescaling.

    Parameters
    ----------
    pattern : see :class:`Regularizer`
    weight : float
        Drop probability, ``0 <= p < 1``.
    rng : int or None
        Seed.  ``None`` (the default) takes an independent stream from
        regkit's root seed sequence (see :func:`regkit.set_rng`), so two
        regularizers built without a seed never draw the same masks.  Each
        draw gets its own generator, spawned from ``SeedSequence(rng)`` in
        the order the draws are built: the same seed and the same graph
        give the same masks in any process (and two regularizers given the
        same seed draw the same masks).
    shared_axes : int or sequence of int
        Axes along which one mask value is shared (its draw has size 1
        there): ``(2, 3)`` on ``(batch, channels, rows, cols)`` drops whole
        feature maps, spatial dropout (Tompson et al., "Efficient object
        localization using convolutional networks", 2015).  Empty (the
        default): an independent value per element.

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> from regkit import BernoulliDropout
    >>> l_in = regkit.InputLayer((None, 100), name="in")
    >>> out = regkit.DenseLayer(l_in, 1, name="out")
    >>> drop = BernoulliDropout("in:out", weight=0.5, rng=1)
    >>> outputs = regkit.get_outputs(out, regularizers=[drop])
    >>> fn = regkit.backend.function([l_in.input_var], outputs["in:out"],
    ...                              updates=regkit.random_updates(outputs))
    >>> sorted(set(fn(np.ones((2, 100))).ravel().tolist()))
    [0.0, 2.0]
    """

    def perturb(self, value):
        keep = 1.0 - self.weight
        mask = self._draw(backend.bernoulli, value, keep)
        return value * mask * backend.full_rank_constant(
            1.0 / keep, value.dtype, value.ndim)


class GaussianNoise(_Stochastic):
    """Additive Gaussian noise with standard deviation ``weight``.

    Takes ``rng`` and ``shared_axes`` as :class:`BernoulliDropout` does (one
    noise value shared along those axes).

    Examples
    --------
    >>> import regkit
    >>> from regkit import GaussianNoise
    >>> noise = GaussianNoise(weight=0.1)
    >>> noise.training_only, noise.draws_random, noise.get_config()["rng"]
    (True, True, None)
    """

    _suffix = "-prenoise"

    def perturb(self, value):
        noise = self._draw(backend.normal, value)
        return value + noise * backend.full_rank_constant(
            self.weight, value.dtype, value.ndim)


class AlphaDropout(_Dropout):
    """Dropout for self-normalizing (SELU) networks: a dropped value is set
    to SELU's negative saturation ``alpha' = -lambda * alpha`` instead of 0,
    and the result is moved back to the input's mean and variance by an
    affine map (Klambauer et al., "Self-normalizing neural networks",
    2017): with ``p = weight``,
    ``a = ((1 - p) * (1 + p * alpha'**2)) ** -0.5``, ``b = -a * alpha' * p``
    and ``out = a * (x * mask + alpha' * (1 - mask)) + b``.

    For inputs of mean 0 and variance 1 the output keeps both, so SELU
    layers stay self-normalizing in training; plain dropout would not.
    Takes ``rng`` and ``shared_axes`` as :class:`BernoulliDropout`.

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> l_in = regkit.InputLayer((None, 20000), name="in")
    >>> drop = regkit.AlphaDropout("in:out", 0.2, rng=0)
    >>> out = regkit.get_output(l_in, regularizers=[drop])
    >>> fn = regkit.backend.function([l_in.input_var], out,
    ...                              updates=regkit.random_updates(out))
    >>> x = np.random.default_rng(1).standard_normal((5, 20000))
    >>> y = fn(x)
    >>> bool(abs(y.mean()) < 0.02 and abs(y.var() - 1) < 0.03)
    True
    """

    _suffix = "-prealphadrop"

    def perturb(self, value):
        p = self.weight
        keep = self._draw(backend.bernoulli, value, 1.0 - p)
        a = ((1 - p) * (1 + p * _SELU_SATURATION ** 2)) ** -0.5
        b = -a * _SELU_SATURATION * p

        def constant(number):
            return backend.full_rank_constant(number, value.dtype, value.ndim)
        dropped = value * keep + constant(_SELU_SATURATION) * (
            constant(1.0) - keep)
        return constant(a) * dropped + constant(b)


class DropConnect(_Seeded, _WeightChange):
    """Inverted DropConnect: each matching weight is zeroed with
    probability ``weight`` in the layer that uses it, the kept ones scaled
    by ``1 / (1 - p)`` (Wan et al., "Regularization of neural networks
    using DropConnect", 2013).

    Where dropout drops a unit's output, DropConnect drops single
    connections.  One mask is drawn per weight tensor and call (the paper
    draws one per example, at a batch's cost in memory); the inference
    graph (``deterministic=True``) uses the weights as they are, the
    paper's mean-field approximation.  Pass ``random_updates`` of the
    outputs to the training function, as for dropout.

    Parameters
    ----------
    pattern : str, sequence of str or None
        Globs over parameter names (``"hid.W"``); None: every parameter
        with the `tags`.
    weight : float
        Drop probability, ``0 <= p < 1``.
    rng : int or None
        Seed (see :class:`BernoulliDropout`).
    tags : dict or None
        Tag filter; default ``{"regularizable": True}`` (biases are kept).

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> l_in = regkit.InputLayer((None, 200), name="in")
    >>> out = regkit.DenseLayer(l_in, 1, W=np.ones((200, 1)),
    ...                         nonlinearity=None, name="out")
    >>> drop = regkit.DropConnect("out.W", 0.5, rng=0)
    >>> train = regkit.get_output(out, regularizers=[drop])
    >>> fn = regkit.backend.function([l_in.input_var], train,
    ...                              updates=regkit.random_updates(train))
    >>> value = float(fn(np.ones((1, 200)))[0, 0])  # 2 * (kept weights)
    >>> value % 2 == 0 and 100 < value < 300
    True
    """

    training_only = True

    def __init__(self, pattern=None, weight=0.0, rng=None, tags=None):
        super(DropConnect, self).__init__(pattern, weight, tags)
        self._init_seeds(rng)

    def _check_weight(self, weight):
        return _check_drop_probability(
            super(DropConnect, self)._check_weight(weight), "DropConnect")

    def change(self, param, name):
        keep = 1.0 - self.weight
        mask = backend.bernoulli(param.shape, keep, param.dtype, self._seed())
        return param * mask * backend.full_rank_constant(
            1.0 / keep, param.dtype, param.ndim)


class StochasticDepth(_Seeded, _MatchCounter, Regularizer):
    """Stochastic depth for residual sums: the residual branch of an
    :class:`~regkit.layers.ElemwiseSumLayer` is dropped, as a whole, with
    probability ``weight`` on each call while training, and scaled by
    ``1 - weight`` in the inference graph (Huang et al., "Deep networks
    with stochastic depth", 2016).

    Parameters
    ----------
    pattern : str, sequence of str or None
        Globs over the sums' outputs (``"res1:out"``); None: every
        ``ElemwiseSumLayer`` of the network.
    weight : float
        Probability of dropping the branch, ``0 <= p < 1`` (the paper
        grows it linearly with depth, to 0.5 for the last block).
    branch : int or None
        Which input of the sum is the residual branch (the others are the
        shortcut).  None (the default): read from the graph, the summand
        computed from all the others (``f(x)`` in ``x + f(x)``, in
        whichever order they are summed); a sum where no summand, or
        several, are (a projection shortcut ``proj(x) + f(x)``) is a
        ValueError asking for `branch`.  The branch is scaled where it is
        summed, never inside another summand that reads it.
    rng : int or None
        Seed (see :class:`BernoulliDropout`).

    Notes
    -----
    Unlike dropout it also changes the inference graph (the scaling), so it
    is not left out of it (``training_only`` is False): the inference graph
    of ``get_output(..., deterministic=True)`` and of
    ``apply_regularizers(...).inference`` both scale the branch.  Its draw
    needs ``random_updates`` as usual.  The sum it rebuilds takes the
    place of the layer's own sum inside the output's current value, so it
    composes with other graph changes on the same output (dropout on the
    sum) in either order.

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> x = regkit.InputLayer((None, 2), name="x")
    >>> f = regkit.DenseLayer(x, 2, W=np.eye(2), nonlinearity=None, name="f")
    >>> res = regkit.ElemwiseSumLayer([x, f], name="res")
    >>> depth = regkit.StochasticDepth(weight=0.5, rng=0)
    >>> test = regkit.get_output(res, regularizers=[depth], deterministic=True)
    >>> regkit.backend.function([x.input_var], test)(np.ones((1, 2)))
    array([[1.5, 1.5]])
    """

    _matched = "sum"

    def __init__(self, pattern=None, weight=0.0, branch=None, rng=None):
        super(StochasticDepth, self).__init__(pattern, weight)
        if branch is not None and (isinstance(branch, bool)
                                   or not is_int(branch)):
            raise TypeError("StochasticDepth: branch must be None or an int "
                            "(the index of the residual input), got %s"
                            % describe(branch))
        self.branch = None if branch is None else int(branch)
        self._init_seeds(rng)

    def _check_weight(self, weight):
        return _check_drop_probability(
            super(StochasticDepth, self)._check_weight(weight),
            "StochasticDepth")

    def get_config(self):
        config = super(StochasticDepth, self).get_config()
        config["branch"] = self.branch
        return config

    def _selects(self, outputs):
        if self.pattern is None:
            return isinstance(outputs.layer, ElemwiseSumLayer)
        return self._pattern_matcher()("%s:out" % outputs.name)

    def _branch_index(self, values, name):
        """The index of the residual branch among the summands `values`:
        the given one, or the one computed from all the others."""
        count = len(values)
        if self.branch is not None:
            if not -count <= self.branch < count:
                raise ValueError("StochasticDepth: branch %d is out of range "
                                 "for %r, which sums %d inputs"
                                 % (self.branch, name, count))
            return self.branch % count
        found = [i for i in range(count)
                 if all(backend.depends_on(values[i], values[j])
                        and values[i] is not values[j]
                        for j in range(count) if j != i)]
        if len(found) != 1:
            raise ValueError(
                "StochasticDepth: cannot tell the residual branch of %r from "
                "the graph (no summand is computed from all the others, as "
                "f(x) is in x + f(x)); give branch=<index of the residual "
                "input>" % (name,))
        return found[0]

    def modify_graph(self, outputs):
        if not self._selects(outputs):
            return
        self._hit(["%s:out" % outputs.name])
        values = outputs.inputs
        if len(values) < 2 or not _is_sum_layer(outputs.layer):
            raise ValueError(
                "StochasticDepth: %r is not a sum of a shortcut and a branch "
                "(it reads %d input(s)%s); on a plain graph, name the "
                "summands (f.name = 'f') so that they are layers of their own"
                % (outputs.name, len(values), "" if _is_sum_layer(
                    outputs.layer) else ", and its value is not their sum"))
        index = self._branch_index(values, outputs.name)
        branch = values[index]
        keep = 1.0 - self.weight
        if outputs.deterministic:
            factor = backend.tensor.cast(keep, branch.dtype)
        else:
            factor = backend.bernoulli((1,), keep, branch.dtype,
                                       self._seed())[0]
        # the sum computed again on its inputs with the branch scaled (the
        # branch is scaled where it is summed, never inside a summand that
        # reads it), then put where the layer's own sum is in the current
        # value, so the changes made before (dropout on the sum) stay
        scaled = list(values)
        scaled[index] = branch * factor
        rebuilt = outputs.recompute(scaled)
        key = "%s:out" % outputs.name
        built, current = outputs.built.get(key), outputs[key]
        outputs[key] = rebuilt if built is None or current is built \
            else backend.clone_replace(current, {built: rebuilt})
        # a later change of the sum (another StochasticDepth) builds on this
        outputs.inputs, outputs.built[key] = tuple(scaled), rebuilt


#: The most passes :func:`mc_predict` runs (``n``).
MAX_MC_PASSES = 100000
#: How many compiled functions :func:`mc_predict` keeps.
MC_CACHE_SIZE = 8
# (id(prediction), ids of the input variables, mode key) -> (prediction,
# input variables, mode, compiled function), least recently used first;
# each entry holds its prediction, variables and mode, so no id in a key
# can be reused by another object while the entry exists.
_MC_FUNCTIONS = {}


def _is_sum_layer(layer):
    """Whether `layer` sums its inputs: a merge layer (regkit's
    ElemwiseSumLayer, a Lasagne-style one), or a plain graph's variable
    computed by an addition."""
    if isinstance(layer, VariableLayer):
        return backend.is_sum(layer.variable)
    return True


def mc_predict(prediction, inputs, n=30, mode=None):
    """Monte Carlo dropout at inference: the mean and variance of `n`
    stochastic passes (Gal and Ghahramani, "Dropout as a Bayesian
    approximation", 2016).

    Parameters
    ----------
    prediction : symbolic tensor
        A training-mode output, with its masks: ``get_output(net,
        regularizers=regs)`` (``deterministic=False``, the default), or
        ``apply_regularizers(...).train``.
    inputs : dict
        Symbolic input -> value, for one batch: a value for every input
        the prediction is computed from (shared variables and constants
        need none).  The keys are symbolic variables, not names.
    n : int
        Number of passes, from 2 to 100000 (``MAX_MC_PASSES`` in this
        module).
    mode : None, str or compilation mode
        None (the backend's default), a name from
        :func:`regkit.backend.linker_modes` or ``"FAST_RUN"``, or a mode
        object (``backend.c_linker_mode()``).

    Returns
    -------
    (mean, variance) : numpy arrays of the prediction's shape
        Over the `n` passes, each with fresh masks; the variance is the
        usual uncertainty estimate (0 where nothing is random).

    Raises
    ------
    TypeError
        If `inputs` is not a dict, one of its keys is not a symbolic
        variable (a string, a shared variable, a constant), or `mode` is
        of another kind.
    ValueError
        If `inputs` lacks an input the prediction needs, `mode` is a name
        the backend does not know, or `n` is out of range.

    Notes
    -----
    The function of `n` passes is compiled once and kept: a later call
    with the same `prediction`, the same input variables (in the same
    order) and the same `mode` (the same name, or the same mode object)
    reuses it, with fresh masks on every pass.  Variables are matched by
    identity, not by structure; the 8 (``MC_CACHE_SIZE``) most recently
    used compiled functions are kept, with their graphs.  The passes draw
    from private copies of the prediction's generators (taken when it is
    first compiled, :func:`regkit.backend.private_generators`), so they
    never change the draws of the training function or of any other.

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> l_in = regkit.InputLayer((None, 4), name="in")
    >>> out = regkit.DenseLayer(l_in, 1, W=np.ones((4, 1)), nonlinearity=None)
    >>> drop = regkit.BernoulliDropout("in:out", 0.5, rng=0)
    >>> prediction = regkit.get_output(out, regularizers=[drop])
    >>> mean, var = regkit.mc_predict(prediction,
    ...                               {l_in.input_var: np.ones((2, 4))}, n=200)
    >>> mean.shape, bool(abs(mean.mean() - 4) < 0.5), bool((var > 0).all())
    ((2, 1), True, True)
    """
    caller = "mc_predict"
    prediction = as_float_tensor(prediction, caller, "prediction")
    # a variance needs two passes
    n = check_count(n, caller, "n", 2, maximum=MAX_MC_PASSES)
    variables = _mc_inputs(prediction, inputs)
    mode_key, mode_value = _mc_mode(mode)
    key = (id(prediction), tuple(id(var) for var in variables), mode_key)
    entry = _MC_FUNCTIONS.pop(key, None)
    if entry is None:
        # private copies of the generators: the passes never move the
        # draws of the training function (or of any other)
        private = backend.private_generators(prediction)
        fn = backend.function(variables, private, mode=mode_value,
                              updates=backend.random_updates(private),
                              on_unused_input="ignore")
        entry = (prediction, variables, mode, fn)
        while len(_MC_FUNCTIONS) >= MC_CACHE_SIZE:
            del _MC_FUNCTIONS[next(iter(_MC_FUNCTIONS))]
    _MC_FUNCTIONS[key] = entry  # now the most recently used
    fn = entry[-1]
    values = [inputs[var] for var in variables]
    passes = np.stack([np.asarray(fn(*values)) for _ in range(n)])
    return passes.mean(axis=0), passes.var(axis=0)


def _mc_inputs(prediction, inputs):
    """The keys of `inputs`, in order, once checked: symbolic variables
    (not shared variables or constants, whose values are in the graph),
    together giving every input the graph of `prediction` starts from."""
    if not isinstance(inputs, dict):
        raise TypeError("mc_predict: inputs must be a dict symbolic input -> "
                        "value, got %s" % describe(inputs))
    variables = list(inputs)
    for var in variables:
        if not backend.is_tensor(var) or isinstance(
                var, (backend.SharedVariable, backend.Constant)):
            raise TypeError("mc_predict: the keys of inputs must be symbolic "
                            "input variables (not names, shared variables "
                            "or constants), got %s" % describe(var))
    given = set(variables)
    # the inputs below a given variable are not needed: it is given
    missing = [var for var in backend.ancestors([prediction], variables)
               if var.owner is None and not isinstance(
                   var, (backend.SharedVariable, backend.Constant))
               and var not in given]
    if missing:
        raise ValueError("mc_predict: inputs has no value for %s, which the "
                         "prediction is computed from"
                         % ", ".join(short_repr(var) for var in missing[:6]))
    return variables


def _mc_mode(mode):
    """(cache key, value for ``backend.function``) of `mode`, or a
    TypeError / ValueError naming it."""
    if mode is None:
        return None, None
    if isinstance(mode, str):
        modes = backend.linker_modes()
        modes.setdefault("FAST_RUN", "FAST_RUN")
        if mode not in modes:
            raise ValueError("mc_predict: mode must be one of %s (or None, "
                             "or a mode object), got %s"
                             % (", ".join(repr(name) for name in modes),
                                short_repr(mode)))
        return mode, modes[mode]
    if isinstance(mode, type(backend.c_linker_mode())):
        # by identity: the cache entry keeps the object, so its id stays its
        return id(mode), mode
    raise TypeError("mc_predict: mode must be None, a mode name or a mode "
                    "object (see regkit.backend.linker_modes), got %s"
                    % describe(mode))


def dropout_mask(reference, p, rng=None):
    """An inverted-dropout mask of the shape and dtype of `reference`:
    each value is 0 with probability `p`, else ``1 / (1 - p)``.

    Drawn once per call of the compiled function, so multiplying every
    time step of a ``scan`` by it (pass it in ``non_sequences``) drops the
    same units at every step: variational, or recurrent, dropout (Gal and
    Ghahramani, "A theoretically grounded application of dropout in
    recurrent neural networks", 2016).  Pass ``random_updates`` of the
    scan's outputs to the function (they find this draw) for a new mask on
    every call.

    Parameters
    ----------
    reference : tensor
        One time step, e.g. ``x[0]`` of a ``(time, batch, features)``
        input, or the initial state.
    p : float
        The drop probability, ``0 <= p < 1``.
    rng : int or None
        Seed; None takes an independent stream from regkit's root seed
        sequence (see :func:`regkit.set_rng`).

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> from regkit import backend
    >>> x = backend.tensor.tensor3("x")  # (time, batch, features)
    >>> mask = regkit.dropout_mask(x[0], 0.5, rng=0)
    >>> steps, _ = backend.scan(lambda x_t, m: x_t * m, sequences=[x],
    ...                         non_sequences=[mask])
    >>> fn = backend.function([x], steps,
    ...                       updates=regkit.random_updates(steps))
    >>> out = fn(np.ones((3, 2, 4), backend.floatX))
    >>> bool((out[0] == out[1]).all() and (out[1] == out[2]).all())
    True
    """
    caller = "dropout_mask"
    reference = as_float_tensor(reference, caller, "reference")
    p = check_fraction(p, caller, "p")
    if p >= 1:
        raise ValueError("dropout_mask: p (the drop probability) must be "
                         "below 1, got %r" % (p,))
    seeds = seed_sequence(check_seed(rng, caller))
    keep = 1.0 - p
    mask = backend.bernoulli(reference.shape, keep, reference.dtype,
                             seeds.spawn(1)[0])
    return mask * backend.full_rank_constant(1.0 / keep, reference.dtype,
                                             reference.ndim)


def _check_shared_axes(shared_axes, caller):
    """`shared_axes` as a tuple of ints (checked against the tensor's
    dimensions when a draw is built)."""
    items = shared_axes if isinstance(shared_axes, (list, tuple)) \
        else (shared_axes,)
    if any(isinstance(a, bool) or not is_int(a) for a in items):
        raise TypeError("%s: shared_axes must be an int or a sequence of "
                        "ints, got %s" % (caller, describe(shared_axes)))
    if len(set(items)) != len(items):
        raise ValueError("%s: shared_axes %s names an axis twice"
                         % (caller, short_repr(shared_axes)))
    return tuple(int(a) for a in items)
