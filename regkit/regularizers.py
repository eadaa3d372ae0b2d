"""Regularizers: named, weighted terms and graph changes, theanets style.

A :class:`Regularizer` has a glob ``pattern`` choosing what it applies to and
a ``weight``, and implements one of two hooks:

* ``loss(layers, outputs)``: an unweighted scalar term for the loss
  (weight penalties, activity penalties);
* ``modify_graph(outputs)``: changes a layer's named outputs while the graph
  is built by :func:`regkit.layers.get_outputs` (dropout, noise).

Patterns are shell globs matched case-sensitively with
:func:`fnmatch.fnmatchcase`, one string or a sequence of strings, against
parameter names (``"hid1.W"``, see :func:`regkit.layers.named_params`) or
output names (``"hid1:out"``, ``"hid1:pre"``).  ``pattern=None`` is the
subclass default: every parameter for weight penalties, the ``:out`` of
every hidden layer (neither an input layer nor an output layer of the
network) for activity penalties, dropout and noise.  A pattern that matches
nothing warns (UserWarning) and contributes exactly zero.

What ``weight`` means depends on the class: the coefficient of a penalty
term, the drop probability of :class:`BernoulliDropout` (0 <= p < 1), the
standard deviation of :class:`GaussianNoise`.

Every subclass, including yours, is registered under its lowercased name
and its snake_case name (``WeightL2``: ``"weightl2"``, ``"weight_l2"``),
plus the names in its ``aliases`` (a class whose name starts with an
underscore is a private base and is not registered); :func:`from_kwargs`
and :func:`deserialize` build regularizers from those names only.
"""
from collections import OrderedDict
from collections.abc import Mapping
import difflib
import fnmatch
import inspect
import logging
import re
import warnings

import numpy as np

from . import backend
from .apply import _check_tags, _weighted_sum, apply_penalty, sum_terms
from .layers import (_ROLES, DenseLayer, _as_layer_list,
                     _as_regularizer_list, _named_params, get_all_layers,
                     layer_names, layer_roles, spawn_seed_sequence)
from .constraints import (check_positive, default_norm_axes,
                          norm_constraint)
from ._checks import _check_fraction, _is_collection, _is_int
from .penalties import kl_sparsity, l1, l2

__all__ = [
    "Regularizer", "WeightL2", "WeightL1", "HiddenL1", "HiddenL2",
    "KLSparsity", "Contractive", "RecurrentNorm", "RecurrentState",
    "BernoulliDropout", "GaussianNoise", "MaxNorm", "ParamUpdates",
    "REGISTRY", "from_kwargs", "total_penalty", "apply_update_hooks",
    "serialize", "deserialize", "random_updates",
]

T = backend.tensor
logger = logging.getLogger("regkit")

#: Registered name -> Regularizer subclass.
REGISTRY = OrderedDict()

random_updates = backend.random_updates

#: Suffixes of the keys under which stochastic regularizers keep the clean
#: value of an output (``hid:out-predrop``); each stochastic class adds its
#: own ``_suffix`` when it is defined.
_CLEAN_SUFFIXES = set()


def _is_clean_copy(name):
    """Whether `name` is the key of a clean copy kept by dropout or noise."""
    return any(name.endswith(suffix) for suffix in _CLEAN_SUFFIXES)


def _snake_case(name):
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    name = re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    return name.lower()


def _register(cls):
    if cls.__name__.startswith("_"):
        return  # private base classes are not regularizers of their own
    keys = [_snake_case(cls.__name__), cls.__name__.lower()]
    keys.extend(cls.__dict__.get("aliases", ()))
    ident = (cls.__module__, cls.__qualname__)
    for key in keys:
        known = REGISTRY.get(key)
        if known is not None and (known.__module__,
                                  known.__qualname__) != ident:
            raise ValueError(
                "regularizer name %r is taken by %s.%s; give %s another "
                "class name" % (key, known.__module__, known.__qualname__,
                                cls.__qualname__))
    for key in keys:
        REGISTRY[key] = cls
    cls.registry_name = keys[0]


def _as_patterns(pattern, argname="pattern"):
    """None, or a tuple of non-empty glob strings."""
    if pattern is None:
        return None
    if isinstance(pattern, str):
        patterns = (pattern,)
    elif isinstance(pattern, (list, tuple)):
        patterns = tuple(pattern)
    else:
        raise TypeError("%s must be a string or a sequence of strings, got %r"
                        % (argname, pattern))
    if not patterns:
        raise ValueError("%s must not be empty" % argname)
    for item in patterns:
        if not isinstance(item, str):
            raise TypeError("%s must contain only strings, got %r"
                            % (argname, item))
        if not item:
            raise ValueError("%s must not contain an empty string: %r"
                             % (argname, pattern))
    return patterns


def _matches(name, patterns):
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def _resolve(pattern, default_roles, network):
    """The globs of `pattern`, or the ``:out`` of every layer of the
    network with one of `default_roles` when `pattern` is None."""
    patterns = _as_patterns(pattern)
    if patterns is not None:
        return patterns
    by_role = _names_by_role(network)
    return tuple("%s:out" % name for role in default_roles
                 for name in by_role[role])


def _select_outputs(patterns, outputs):
    """Names in `outputs` matching `patterns`, leaving out the clean copies
    kept by dropout and noise."""
    return [name for name in outputs if _matches(name, patterns)
            and not _is_clean_copy(name)]


def _names_by_role(network):
    roles = layer_roles(network)
    names = layer_names(list(roles))
    by_role = {role: [] for role in _ROLES}
    for layer, role in roles.items():
        by_role[role].append(names[layer])
    return by_role


class Regularizer(object):
    """Base class of every regularizer.

    Parameters
    ----------
    pattern : str, sequence of str or None
        Glob(s) choosing the parameters or outputs this regularizer applies
        to; None means the subclass default.
    weight : float
        Non-negative and finite: the coefficient of the term, or the
        probability or standard deviation of a stochastic regularizer.

    Attributes
    ----------
    default_roles : tuple of str
        For output regularizers, the layer roles whose ``:out`` the default
        pattern selects (``("hidden",)``).
    stochastic : bool
        True for regularizers that draw random numbers; they leave the graph
        alone when it is built with ``deterministic=True``.

    Examples
    --------
    A regularizer of your own implements ``loss`` or ``modify_graph``; it is
    registered under its names as soon as the class exists:

    >>> import regkit
    >>> class OutputNorm(regkit.Regularizer):
    ...     default_roles = ("output",)
    ...     def loss(self, layers, outputs):
    ...         names = self.output_names(layers, outputs)
    ...         return sum_terms(T.sum(T.sqr(outputs[name]))
    ...                          for name in names)
    >>> REGISTRY["output_norm"] is OutputNorm
    True
    """

    default_roles = ("hidden",)
    stochastic = False
    aliases = ()
    registry_name = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _register(cls)

    def __init__(self, pattern=None, weight=0.0):
        patterns = _as_patterns(pattern, "%s: pattern" % type(self).__name__)
        self.pattern = pattern if isinstance(pattern, str) or pattern is None \
            else patterns
        self.weight = self._check_weight(weight)

    def _check_weight(self, weight):
        return check_positive(weight, type(self).__name__, "weight",
                              allow_zero=True)

    def __repr__(self):
        config = ", ".join("%s=%r" % item for item in self.get_config().items())
        return "%s(%s)" % (type(self).__name__, config)

    def get_config(self):
        """The constructor arguments as a plain dict (see :func:`serialize`)."""
        pattern = self.pattern
        if isinstance(pattern, tuple):
            pattern = list(pattern)
        return {"pattern": pattern, "weight": self.weight}

    def log(self):
        """Log one line (level INFO, logger ``regkit``) describing this."""
        logger.info("%s (weight %g) on %s", type(self).__name__, self.weight,
                    "default pattern" if self.pattern is None
                    else repr(self.pattern))

    def loss(self, layers, outputs):
        """The unweighted loss term; 0 for a regularizer without one.

        Parameters
        ----------
        layers : Layer or list of Layer
            The network's output layer(s), or all the layers of the model
            (theanets' convention): roles come from the graph, so both
            select the same parameters and outputs.
        outputs : dict
            Named outputs, from :func:`regkit.layers.get_outputs`.
        """
        return 0

    def modify_graph(self, outputs):
        """Change one layer's named outputs in place; no change by default.

        Parameters
        ----------
        outputs : regkit.layers.LayerOutputs
            The outputs of one layer (keys ``"<layer>:out"``...), with the
            attributes ``name`` and ``role`` of that layer.
        """

    def modify_updates(self, updates):
        """Change the parameter updates in place; no change by default.

        Called by :func:`apply_update_hooks` after the updates are built
        (e.g. by SGD), once per training function; a constraint such as
        :class:`MaxNorm` replaces the new value of each parameter it
        applies to.

        Parameters
        ----------
        updates : ParamUpdates
            An ordered dict parameter -> new value, whose ``network``
            attribute is the network's output layer(s) (None when the hook
            is called on a plain dict).
        """

    # -- pattern helpers ---------------------------------------------------

    def patterns(self, layers):
        """The globs this regularizer uses on the network `layers`."""
        return _resolve(self.pattern, self.default_roles, layers)

    def _no_match(self, what, argname="pattern", value=None):
        warnings.warn("%s: %s %r matches no %s; it adds nothing"
                      % (type(self).__name__, argname,
                         self.pattern if value is None else value, what),
                      UserWarning, stacklevel=3)

    def output_names(self, layers, outputs):
        """Names of the outputs in `outputs` this regularizer applies to
        (warns if there are none).

        Parameters
        ----------
        layers : Layer or list of Layer
            The network's output layer(s), or all the layers of the model
            (theanets' convention): roles come from the graph, so both
            select the same parameters and outputs.
        outputs : dict
            Named outputs, from :func:`regkit.layers.get_outputs`.
        """
        names = _select_outputs(self.patterns(layers), outputs)
        if not names:
            self._no_match("output")
        return names

    def matches_output(self, outputs, name):
        """Whether output `name` of the layer dict `outputs` is selected."""
        if _is_clean_copy(name):
            return False
        patterns = _as_patterns(self.pattern)
        if patterns is None:
            return outputs.role in self.default_roles \
                and name == "%s:out" % outputs.name
        return _matches(name, patterns)

    def check_matches(self, named):
        """Called by :func:`regkit.layers.get_outputs` once the graph
        `named` is built; a graph-modifying regularizer warns here if it
        selected no output.  Nothing by default."""


# ------------------------------------------------------------ weight terms --

class _ParamRegularizer(Regularizer):
    """Applies to the parameters with the given tags whose names match."""

    def __init__(self, pattern=None, weight=0.0, tags=None):
        super(_ParamRegularizer, self).__init__(pattern, weight)
        if tags is None:
            tags = {"regularizable": True}
        self.tags = _check_tags(tags, type(self).__name__)

    def get_config(self):
        config = super(_ParamRegularizer, self).get_config()
        config["tags"] = dict(self.tags)
        return config

    def named_params(self, layers):
        """(name, parameter) pairs this regularizer applies to (warns if
        there are none)."""
        patterns = _as_patterns(self.pattern) or ("*",)
        chosen = [(name, param)
                  for name, param in _named_params(
                      layers, True, self.tags, type(self).__name__)
                  if _matches(name, patterns)]
        if not chosen:
            self._no_match("parameter")
        return chosen

    def params(self, layers):
        """The parameters (shared variables) this regularizer applies to."""
        return [param for _, param in self.named_params(layers)]


class _WeightPenalty(_ParamRegularizer):
    """Sum of a penalty over the matching parameters with the given tags."""

    penalty = None

    def loss(self, layers, outputs):
        return apply_penalty(self.params(layers), type(self).penalty)


class WeightL2(_WeightPenalty):
    """Sum of squares of the matching parameters (weight decay).

    ``loss = sum(l2(W) for W in params)``: the plain sum over parameters,
    not theanets' mean of per-parameter means, so it is the same number as
    ``regularize_network_params(net, l2)``.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import InputLayer, DenseLayer, get_outputs
    >>> net = DenseLayer(InputLayer((None, 2)), 2, W=np.ones((2, 2)),
    ...                  name="out")
    >>> float(WeightL2(weight=1e-4).loss(net, get_outputs(net)).eval())
    4.0
    """

    aliases = ("weight_decay",)
    penalty = staticmethod(l2)


class WeightL1(_WeightPenalty):
    """Sum of absolute values of the matching parameters.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import InputLayer, DenseLayer, get_outputs
    >>> net = DenseLayer(InputLayer((None, 2)), 2, W=-np.ones((2, 2)))
    >>> float(WeightL1("*.W", 1e-4).loss(net, get_outputs(net)).eval())
    4.0
    """

    aliases = ("weight_sparsity",)
    penalty = staticmethod(l1)


# ---------------------------------------------------------- output terms --

def _batch_size(h):
    return T.cast(h.shape[0], h.dtype)


class _OutputPenalty(Regularizer):
    """Sum over the matching outputs of ``term(output)``."""

    def term(self, h, name, layers, outputs):
        raise NotImplementedError

    def loss(self, layers, outputs):
        names = self.output_names(layers, outputs)
        return sum_terms(self.term(outputs[name], name, layers, outputs)
                         for name in names)


class HiddenL1(_OutputPenalty):
    """Mean over examples of the summed absolute activations.

    ``loss = sum(abs(h)) / batch`` for each matching output ``h`` (axis 0 is
    the batch), so the term does not grow with the batch size.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import InputLayer, DenseLayer, get_outputs
    >>> l_in = InputLayer((None, 2), name="in")
    >>> hid = DenseLayer(l_in, 3, W=np.ones((2, 3)), name="hid")
    >>> out = DenseLayer(hid, 1, name="out")
    >>> term = HiddenL1(weight=0.1).loss(out, get_outputs(out))
    >>> float(term.eval({l_in.input_var: np.ones((4, 2))}))
    6.0
    """

    aliases = ("hidden_sparsity",)

    def term(self, h, name, layers, outputs):
        return T.sum(abs(h)) / _batch_size(h)


class HiddenL2(_OutputPenalty):
    """Mean over examples of the summed squared activations.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import InputLayer, DenseLayer, get_outputs
    >>> net = DenseLayer(DenseLayer(InputLayer((None, 2), name="in"), 2,
    ...                             W=np.eye(2), name="hid"), 1, name="out")
    >>> outputs = get_outputs(net, np.array([[1.0, 2.0], [3.0, 0.0]]))
    >>> float(HiddenL2().loss(net, outputs).eval())  # (5 + 9) / 2
    7.0
    """

    def term(self, h, name, layers, outputs):
        return T.sum(T.sqr(h)) / _batch_size(h)


class KLSparsity(_OutputPenalty):
    """KL divergence between `target` and each unit's batch-mean activation.

    See :func:`regkit.penalties.kl_sparsity`; meant for outputs in [0, 1]
    such as sigmoid units.

    Parameters
    ----------
    pattern, weight
        See :class:`Regularizer`.
    target : float
        Desired mean activation, strictly between 0 and 1.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import InputLayer, DenseLayer, get_outputs
    >>> from regkit.nonlinearities import sigmoid
    >>> net = DenseLayer(DenseLayer(InputLayer((None, 2)), 3,
    ...                             nonlinearity=sigmoid, name="hid"), 1)
    >>> outputs = get_outputs(net, np.zeros((4, 2)))  # every mean is 0.5
    >>> round(float(KLSparsity(target=0.5).loss(net, outputs).eval()), 6)
    0.0
    """

    def __init__(self, pattern=None, weight=0.0, target=0.05):
        super(KLSparsity, self).__init__(pattern, weight)
        self.target = _check_fraction(target, "KLSparsity", "target",
                                      strict=True)

    def get_config(self):
        config = super(KLSparsity, self).get_config()
        config["target"] = self.target
        return config

    def term(self, h, name, layers, outputs):
        return kl_sparsity(h, target=self.target)


class _RecurrentPenalty(_OutputPenalty):

    def term(self, h, name, layers, outputs):
        if h.ndim != 3:
            raise ValueError("%s: output %r must be (batch, time, features), "
                             "got %d dimensions" % (type(self).__name__, name,
                                                    h.ndim))
        return T.mean(self.step_term(h[:, 1:], h[:, :-1]))


class RecurrentNorm(_RecurrentPenalty):
    """Squared change of the state norm between consecutive steps.

    ``mean over batch and the T-1 steps of (||h_t|| - ||h_{t-1}||)**2``
    (Krueger and Memisevic, "Regularizing RNNs by stabilizing
    activations", 2016).  A norm of zero has the subgradient 0.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import InputLayer
    >>> states = InputLayer((None, 3, 2), name="rnn")  # (batch, time, units)
    >>> h = np.array([[[3.0, 4.0], [0.0, 1.0], [0.0, 2.0]]])
    >>> outputs = {"rnn:out": h}
    >>> float(RecurrentNorm("rnn:out").loss(states, outputs).eval())
    8.5
    """

    def step_term(self, now, before):
        return T.sqr(_norm(now) - _norm(before))


class RecurrentState(_RecurrentPenalty):
    """Squared distance between consecutive states.

    ``mean over batch and the T-1 steps of ||h_t - h_{t-1}||**2``.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import InputLayer
    >>> states = InputLayer((None, 3, 2), name="rnn")
    >>> h = np.array([[[3.0, 4.0], [0.0, 1.0], [0.0, 2.0]]])
    >>> float(RecurrentState("rnn:out").loss(states, {"rnn:out": h}).eval())
    9.5
    """

    def step_term(self, now, before):
        return T.sum(T.sqr(now - before), axis=-1)


def _norm(h):
    squares = T.sum(T.sqr(h), axis=-1)
    tiny = np.asarray(np.finfo(h.dtype).tiny, h.dtype)
    # sqrt has an infinite slope at 0: take the subgradient 0 there
    return T.switch(T.gt(squares, tiny), T.sqrt(T.maximum(squares, tiny)), 0)


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
    >>> from regkit import InputLayer, DenseLayer, get_outputs, backend
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
        names = _select_outputs(_resolve(self.wrt, ("input",), layers),
                                outputs)
        if not names:
            self._no_match("output", "wrt", self.wrt)
        return names

    def loss(self, layers, outputs):
        chosen = self.output_names(layers, outputs)
        if not chosen:
            return 0
        # resolved once for all the chosen outputs
        names = layer_names(get_all_layers(layers))
        by_name = {value: key for key, value in names.items()}
        wrt_names = self._wrt_names(layers, outputs)
        return sum_terms(self._term(outputs[name], name, outputs, names,
                                    by_name, wrt_names) for name in chosen)

    @staticmethod
    def _term(h, name, outputs, names, by_name, wrt_names):
        prefix = name.rsplit(":", 1)[0]
        layer = by_name.get(prefix)
        terms = []
        for wrt_name in wrt_names:
            x = outputs[wrt_name]
            if not _depends_on(h, x):
                continue
            closed = None
            if isinstance(layer, DenseLayer) and layer.input_layer is not None \
                    and wrt_name == "%s:out" % names[layer.input_layer]:
                closed = _dense_jacobian_norm(h, outputs.get(prefix + ":pre"),
                                              layer.W)
            terms.append(closed if closed is not None
                         else _jacobian_norm(h, x))
        return sum_terms(terms)


def _dense_jacobian_norm(h, pre, W):
    """Closed form for ``h = g(pre)``, ``pre = dot(x, W) + b`` with `g`
    elementwise; None when `h` is not an elementwise function of `pre`."""
    if pre is None or not _elementwise_between(h, pre):
        return None
    slope = backend.grad(T.sum(h), pre)  # dh_ij / dpre_ij
    column_norms = T.sum(T.sqr(W), axis=0)
    return T.sum(T.sqr(slope) * column_norms) / _batch_size(h)


def _depends_on(expr, var):
    stack, seen = [expr], set()
    while stack:
        node_var = stack.pop()
        if node_var is var:
            return True
        if node_var in seen or node_var.owner is None:
            continue
        seen.add(node_var)
        stack.extend(node_var.owner.inputs)
    return False


def _elementwise_between(h, a):
    """Whether every operation from `a` up to `h` is elementwise."""
    stack, seen = [h], set()
    while stack:
        var = stack.pop()
        if var is a or var in seen or var.owner is None:
            continue
        seen.add(var)
        if not _depends_on(var, a):
            continue
        if not isinstance(var.owner.op, backend.Elemwise):
            return False
        stack.extend(var.owner.inputs)
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


# ------------------------------------------------------------ stochastic --

class _Stochastic(Regularizer):
    """Replaces matching outputs with a randomly perturbed version and keeps
    the clean value under ``"<name><suffix>"`` (each subclass sets
    ``_suffix``)."""

    stochastic = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _CLEAN_SUFFIXES.add(cls._suffix)

    def __init__(self, pattern=None, weight=0.0, rng=None):
        super(_Stochastic, self).__init__(pattern, weight)
        if rng is not None and (not _is_int(rng) or rng < 0):
            raise TypeError("%s: rng must be None or a non-negative int "
                            "seed, got %r" % (type(self).__name__, rng))
        self.rng = None if rng is None else int(rng)
        # one independent child per draw (numpy's SeedSequence.spawn)
        self._seeds = spawn_seed_sequence() if rng is None \
            else np.random.SeedSequence(self.rng)
        self._hits = 0

    def get_config(self):
        config = super(_Stochastic, self).get_config()
        config["rng"] = self.rng
        return config

    def check_matches(self, named):
        hits, self._hits = self._hits, 0
        if not hits:
            self._no_match("output")

    def _seed(self):
        return self._seeds.spawn(1)[0]

    def modify_graph(self, outputs):
        names = [n for n in outputs if self.matches_output(outputs, n)]
        self._hits += len(names)
        if self.weight == 0:
            return
        for name in names:
            value = outputs[name]
            outputs[name + self._suffix] = value
            outputs[name] = self.perturb(value)


class BernoulliDropout(_Stochastic):
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

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> l_in = regkit.InputLayer((None, 100), name="in")
    >>> out = regkit.DenseLayer(l_in, 1, name="out")
    >>> drop = BernoulliDropout("in:out", weight=0.5, rng=1)
    >>> outputs = regkit.get_outputs(out, regularizers=[drop])
    >>> fn = regkit.backend.function([l_in.input_var], outputs["in:out"],
    ...                              updates=regkit.random_updates(outputs))
    >>> sorted(set(fn(np.ones((2, 100))).ravel().tolist()))
    [0.0, 2.0]
    """

    _suffix = "-predrop"

    def _check_weight(self, weight):
        weight = super(BernoulliDropout, self)._check_weight(weight)
        if weight >= 1:
            raise ValueError("BernoulliDropout: weight (the drop probability) "
                             "must be below 1, got %r" % (weight,))
        return weight

    def perturb(self, value):
        keep = 1.0 - self.weight
        mask = backend.bernoulli(value.shape, keep, value.dtype, self._seed())
        return value * mask * np.asarray(1.0 / keep, dtype=value.dtype)


class GaussianNoise(_Stochastic):
    """Additive Gaussian noise with standard deviation ``weight``.

    Examples
    --------
    >>> import regkit
    >>> noise = GaussianNoise(weight=0.1)
    >>> noise.stochastic, noise.get_config()["rng"]
    (True, None)
    """

    _suffix = "-prenoise"

    def perturb(self, value):
        noise = backend.normal(value.shape, value.dtype, self._seed())
        return value + noise * np.asarray(self.weight, dtype=value.dtype)


# ------------------------------------------------------------- updates --

class ParamUpdates(OrderedDict):
    """An ordered dict parameter -> new value, that knows its network.

    What :meth:`Regularizer.modify_updates` receives from
    :func:`apply_update_hooks`; it can be passed to ``function(...,
    updates=...)`` as it is.

    Parameters
    ----------
    updates : dict or sequence of (parameter, new value) pairs
    network : Layer, list of Layer or None
        The network's output layer(s); parameter names and tags are looked
        up on it.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import backend
    >>> W = backend.shared(np.ones(2), name="W")
    >>> list(ParamUpdates([(W, W * 2)]).keys())
    [W]
    """

    def __init__(self, updates=(), network=None):
        super(ParamUpdates, self).__init__()
        if isinstance(updates, Mapping):
            pairs = list(updates.items())
        elif not _is_collection(updates):
            raise TypeError("updates must be a dict or a list of (parameter, "
                            "new value) pairs, got %r" % (updates,))
        else:
            pairs = list(updates)
        for index, pair in enumerate(pairs):
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise TypeError("updates: item %d must be a (parameter, new "
                                "value) pair, got %r" % (index, pair))
            param, value = pair
            if not isinstance(param, backend.SharedVariable):
                raise TypeError("updates: item %d must update a shared "
                                "variable, got %r" % (index, param))
            ndim = np.ndim(value) if not backend.is_tensor(value) \
                else value.ndim
            if ndim != param.ndim:
                raise ValueError("updates: the new value of %s (item %d) has "
                                 "%d dimensions, expected %d" % (
                                     param, index, ndim, param.ndim))
            self[param] = value
        if network is not None:
            _as_layer_list(network, "ParamUpdates", "network")  # checks only
        self.network = network

    def __reduce__(self):
        return (type(self), (list(self.items()), self.network))


def apply_update_hooks(regularizers, network, updates):
    """Run every regularizer's :meth:`~Regularizer.modify_updates` hook on
    a copy of `updates`.

    Parameters
    ----------
    regularizers : list of Regularizer
    network : Layer or list of Layer
        The network's output layer(s), or all its layers.
    updates : dict or sequence of (parameter, new value) pairs
        The training updates, e.g. from SGD; not changed.

    Returns
    -------
    ParamUpdates
        An ordered dict parameter -> new value, to pass to ``function``.

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> net = regkit.DenseLayer(regkit.InputLayer((None, 2)), 1,
    ...                         W=np.array([[3.0], [4.0]]), name="out")
    >>> W = net.W
    >>> updates = apply_update_hooks([MaxNorm(weight=1.0)], net, [(W, W)])
    >>> updates[W].eval().round(3).tolist()
    [[0.6], [0.8]]
    """
    result = ParamUpdates(updates, network)
    for reg in _as_regularizers(regularizers, "apply_update_hooks"):
        reg.modify_updates(result)
    return result


def _as_regularizers(regularizers, caller):
    """`regularizers` (one or a list) as a list, or a TypeError."""
    return _as_regularizer_list(regularizers, caller, cls=Regularizer)


class MaxNorm(_ParamRegularizer):
    """Max-norm constraint on the matching parameters' updates.

    After each update, the incoming weight vector of each unit (each filter
    of a 3- to 5-D parameter) is rescaled so that its L2 norm is at most
    ``weight``; see :func:`regkit.constraints.norm_constraint`.  It adds
    no loss term: it acts through :meth:`modify_updates`, so apply it with
    :func:`apply_update_hooks`.

    Parameters
    ----------
    pattern : str, sequence of str or None
        Globs over parameter names; None: every parameter with the `tags`
        that has 2 to 5 dimensions (biases are left alone).  A parameter
        chosen by an explicit pattern must have 2 to 5 dimensions unless
        `norm_axes` is given.
    weight : float
        The maximum norm, positive (3 to 4 is usual with dropout,
        Srivastava et al. 2014).
    norm_axes : int, sequence of int or None
        Passed to :func:`~regkit.constraints.norm_constraint`.
    tags : dict or None
        Tag filter; default ``{"regularizable": True}``.
    epsilon : float
        Passed to :func:`~regkit.constraints.norm_constraint`.

    Notes
    -----
    When the hook is called on a plain dict instead of through
    :func:`apply_update_hooks`, there is no network to look names and tags
    up on: the pattern is matched against each shared variable's own
    ``name`` and tags are not checked.

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> net = regkit.DenseLayer(regkit.InputLayer((None, 2)), 1,
    ...                         W=np.array([[3.0], [4.0]]), name="out")
    >>> regs = regkit.from_kwargs(net, max_norm=2.0)
    >>> regs[0].max_norm
    2.0
    >>> new = apply_update_hooks(regs, net, {net.W: net.W * 10})
    >>> float(np.sqrt((new[net.W].eval() ** 2).sum())) <= 2.0
    True
    """

    def __init__(self, pattern=None, weight=3.0, norm_axes=None, tags=None,
                 epsilon=1e-7):
        super(MaxNorm, self).__init__(pattern, weight, tags)
        if norm_axes is not None:
            items = norm_axes if isinstance(norm_axes, (list, tuple)) \
                else (norm_axes,)
            if not items or any(not _is_int(a) for a in items):
                raise TypeError("MaxNorm: norm_axes must be None, an int or "
                                "a non-empty sequence of ints, got %r"
                                % (norm_axes,))
            norm_axes = tuple(int(a) for a in items)
        self.norm_axes = norm_axes
        self.epsilon = check_positive(epsilon, "MaxNorm", "epsilon",
                                      allow_zero=True)

    @property
    def max_norm(self):
        """The bound (the same number as ``weight``)."""
        return self.weight

    def _check_weight(self, weight):
        weight = super(MaxNorm, self)._check_weight(weight)
        if weight == 0:
            raise ValueError("MaxNorm: weight (the maximum norm) must be "
                             "positive, got 0.0")
        return weight

    def get_config(self):
        config = super(MaxNorm, self).get_config()
        axes = self.norm_axes
        config["norm_axes"] = None if axes is None else list(axes)
        config["epsilon"] = self.epsilon
        return config

    def _chosen(self, updates):
        network = getattr(updates, "network", None)
        if network is not None:
            return self.named_params(network)
        patterns = _as_patterns(self.pattern)
        return [(param.name, param) for param in updates
                if patterns is None or (param.name is not None
                                        and _matches(param.name, patterns))]

    def modify_updates(self, updates):
        for name, param in self._chosen(updates):
            if param not in updates:
                continue
            if self.norm_axes is None and default_norm_axes(
                    param.ndim) is None:
                if self.pattern is None:
                    continue  # biases and scalars: not max-norm material
                raise ValueError(
                    "MaxNorm: parameter %r has %d dimensions; give "
                    "norm_axes, or a pattern that leaves it out"
                    % (name, param.ndim))
            updates[param] = norm_constraint(updates[param], self.weight,
                                             self.norm_axes, self.epsilon)


# ------------------------------------------------------------- building --

_ROLE_KEYWORDS = {
    "input_dropout": (BernoulliDropout, "input"),
    "hidden_dropout": (BernoulliDropout, "hidden"),
    "output_dropout": (BernoulliDropout, "output"),
    "input_noise": (GaussianNoise, "input"),
    "hidden_noise": (GaussianNoise, "hidden"),
    "output_noise": (GaussianNoise, "output"),
}
_GLOB_KEYWORDS = {"dropout": BernoulliDropout, "noise": GaussianNoise}
_GLOB_NAME = {cls: key for key, cls in _GLOB_KEYWORDS.items()}


def from_kwargs(network, **kwargs):
    """Build a list of regularizers from keyword arguments.

    Parameters
    ----------
    network : Layer or list of Layer
        The network's output layer(s), or all its layers; role keywords are
        resolved on it.
    **kwargs
        ``input_dropout``, ``hidden_dropout``, ``output_dropout`` (drop
        probability of the ``:out`` of the layers with that role),
        ``input_noise``, ``hidden_noise``, ``output_noise`` (noise
        standard deviation; or, for any of these six, a dict of
        constructor arguments such as ``{"weight": 0.5, "rng": 3}``),
        ``dropout={glob: p}``, ``noise={glob: std}``,
        and any registry name with a weight or a dict of constructor
        arguments (``weight_l2=1e-4``, ``kl_sparsity={"weight": 0.1,
        "target": 0.1}``).  A value of None is skipped.

    Returns
    -------
    list of Regularizer, in keyword order.

    Raises
    ------
    TypeError
        An unknown keyword (the message names the closest valid one), or a
        value of the wrong kind.

    Examples
    --------
    >>> import regkit
    >>> net = regkit.DenseLayer(regkit.DenseLayer(
    ...     regkit.InputLayer((None, 4)), 8, name="hid"), 2, name="out")
    >>> regs = from_kwargs(net, weight_l2=1e-4, hidden_dropout=0.5)
    >>> [type(r).__name__ for r in regs], regs[1].pattern
    (['WeightL2', 'BernoulliDropout'], ('hid:out',))
    """
    roles = _names_by_role(network)
    result = []
    for key, value in kwargs.items():
        if value is None:
            continue
        if key in _ROLE_KEYWORDS:
            cls, role = _ROLE_KEYWORDS[key]
            patterns = ["%s:out" % name for name in roles[role]]
            if not patterns:
                warnings.warn("from_kwargs: %s=%r but the network has no %s "
                              "layer" % (key, value, role), UserWarning,
                              stacklevel=2)
                continue
            if isinstance(value, Mapping):
                if "pattern" in value:
                    raise TypeError("from_kwargs: %s chooses the pattern "
                                    "itself; use %s={glob: ...} or the class "
                                    "to give one" % (key, _GLOB_NAME[cls]))
                result.append(_construct(cls, value, "from_kwargs: " + key,
                                         patterns))
            else:
                result.append(cls(patterns, value))
        elif key in _GLOB_KEYWORDS:
            if not isinstance(value, Mapping):
                raise TypeError("from_kwargs: %s must be a dict {glob: value},"
                                " got %r" % (key, value))
            for glob, weight in value.items():
                result.append(_GLOB_KEYWORDS[key](glob, weight))
        elif key in REGISTRY:
            cls = REGISTRY[key]
            if isinstance(value, Mapping):
                result.append(_construct(cls, value, "from_kwargs: " + key))
            else:
                result.append(cls(weight=value))
        else:
            valid = sorted(set(REGISTRY) | set(_ROLE_KEYWORDS)
                           | set(_GLOB_KEYWORDS))
            raise TypeError("from_kwargs: unknown regularizer keyword %r%s"
                            % (key, _did_you_mean(key, valid)))
    for reg in result:
        reg.log()
    return result


def _did_you_mean(word, choices):
    close = difflib.get_close_matches(str(word), choices, n=1)
    return ("; did you mean %r?" % close[0]) if close else ""


def _construct(cls, args, source, *positional):
    """``cls(*positional, **args)``; an argument `cls` does not take raises
    a TypeError that names `source`, where `args` came from."""
    params = list(inspect.signature(cls).parameters.values())
    if any(param.kind == param.VAR_KEYWORD for param in params):
        return cls(*positional, **args)  # takes any keyword: let it judge
    accepted = [param.name for param in params
                if param.kind in (param.POSITIONAL_OR_KEYWORD,
                                  param.KEYWORD_ONLY)][len(positional):]
    for name in args:
        if name not in accepted:
            raise TypeError("%s got %r, which %s does not take (it takes "
                            "%s)%s" % (
                                source, name, cls.__name__, ", ".join(accepted),
                                _did_you_mean(name, accepted)))
    return cls(*positional, **args)


def total_penalty(regularizers, network, outputs):
    """``sum(weight * loss)`` over the regularizers.

    Parameters
    ----------
    regularizers : list of Regularizer
    network : Layer or list of Layer
        The network's output layer(s), or all its layers.
    outputs : dict
        Named outputs from :func:`regkit.layers.get_outputs` (built with
        the same regularizers, so that activity terms see the training
        graph).

    Returns
    -------
    A symbolic scalar (``0`` if no regularizer has a loss term).  Weights
    are cast to the dtype of each term.

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> net = regkit.DenseLayer(regkit.InputLayer((None, 2)), 2,
    ...                         W=np.ones((2, 2)))
    >>> regs = [WeightL2(weight=0.5), WeightL1(weight=0.25)]
    >>> outputs = regkit.get_outputs(net, regularizers=regs)
    >>> float(total_penalty(regs, net, outputs).eval())
    3.0
    """
    regularizers = _as_regularizers(regularizers, "total_penalty")
    network = _as_layer_list(network, "total_penalty", "network")
    if not isinstance(outputs, Mapping):
        raise TypeError("total_penalty: outputs must be the dict that "
                        "get_outputs returns, got %r" % (outputs,))
    pairs = []
    for reg in regularizers:
        term = reg.loss(network, outputs)  # its warnings even at weight 0
        if reg.weight != 0:
            pairs.append((reg.weight, term))
    return _weighted_sum(pairs)


def serialize(reg):
    """A plain dict ``{"name": <registry name>, "config": get_config()}``.

    Examples
    --------
    >>> serialize(WeightL2("*.W", 1e-4))["name"]
    'weight_l2'
    """
    if not isinstance(reg, Regularizer):
        raise TypeError("serialize: expected a Regularizer, got %r" % (reg,))
    return {"name": type(reg).registry_name, "config": reg.get_config()}


def deserialize(data):
    """Build a regularizer from :func:`serialize`'s dict.

    Only registered classes are built; nothing named in `data` is imported
    or evaluated, so a dict from an untrusted source cannot run code
    (unlike a pickle: never unpickle regularizers or networks from a source
    you do not trust).

    Raises
    ------
    ValueError
        If the name is not registered (dotted paths included).
    TypeError
        If `data` is not such a dict.

    Examples
    --------
    >>> reg = deserialize({"name": "weight_decay", "config": {"weight": 0.1}})
    >>> type(reg).__name__, reg.weight
    ('WeightL2', 0.1)
    """
    if not isinstance(data, Mapping) or "name" not in data:
        raise TypeError("deserialize: data must be a dict with 'name' and "
                        "'config', got %r" % (data,))
    name = data["name"]
    config = data.get("config") or {}
    if not isinstance(name, str) or name not in REGISTRY:
        raise ValueError("deserialize: %r is not a registered regularizer "
                         "name" % (name,))
    if not isinstance(config, Mapping):
        raise TypeError("deserialize: config must be a dict, got %r"
                        % (config,))
    return _construct(REGISTRY[name], config,
                      "deserialize: %r" % name)
