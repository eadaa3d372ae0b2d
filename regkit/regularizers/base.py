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
term, the drop probability of
:class:`~regkit.regularizers.BernoulliDropout` (0 <= p < 1), the
standard deviation of :class:`~regkit.regularizers.GaussianNoise`.

Every subclass, including yours, is registered under its lowercased name
and its snake_case name (``WeightL2``: ``"weightl2"``, ``"weight_l2"``),
plus the names in its ``aliases`` (a class whose name starts with an
underscore is a private base and is not registered);
:func:`~regkit.regularizers.from_kwargs` and
:func:`~regkit.regularizers.deserialize` build regularizers from those names
only.
"""
from collections import OrderedDict
import difflib
import logging
import re
import warnings

from .. import backend
from .._checks import (as_instances, check_positive, check_seed,
                       describe, short_repr)
from ..init import seed_sequence
from ..layers.base import filter_tags
from ..layers.network import as_network, param_name
from ..layers.hooks import OutputHook
from ..regularization import check_tags
from ..schedules import Schedule
from .patterns import (_as_patterns, _available_hint, _is_clean_copy,
                       _matcher, _resolve, _select_outputs, _short_name_hint,
                       _unmatched_globs)

__all__ = ["Regularizer", "REGISTRY", "change_weights", "term_labels"]

logger = logging.getLogger("regkit")

#: Registered name -> Regularizer subclass.
REGISTRY = OrderedDict()

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


class Regularizer(OutputHook):
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
    training_only : bool
        True for graph changes of training only (dropout, noise,
        DropConnect); they leave the graph alone when it is built with
        ``deterministic=True``.
    draws_random : bool
        True for regularizers that draw random numbers (they take ``rng``).

    Examples
    --------
    A regularizer of your own implements ``loss`` or ``modify_graph``; it is
    registered under its names as soon as the class exists:

    >>> import regkit
    >>> T = regkit.backend.tensor
    >>> class OutputNorm(regkit.Regularizer):
    ...     default_roles = ("output",)
    ...     def loss(self, layers, outputs):
    ...         names = self.output_names(layers, outputs)
    ...         return regkit.sum_terms(T.sum(T.sqr(outputs[name]))
    ...                                 for name in names)
    >>> regkit.REGISTRY["output_norm"] is OutputNorm
    True
    """

    default_roles = ("hidden",)
    aliases = ()
    registry_name = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _register(cls)

    @classmethod
    def is_registered(cls, name):
        """Whether `name` is a registered regularizer name (theanets'
        registry API; case-insensitive, like :meth:`build`).

        Examples
        --------
        >>> import regkit
        >>> regkit.Regularizer.is_registered("weight_l2")
        True
        """
        return isinstance(name, str) and name.lower() in REGISTRY

    @classmethod
    def build(cls, name, *args, **kwargs):
        """Build the regularizer registered as `name` (theanets' API), with
        the given constructor arguments.

        Raises
        ------
        ValueError
            If `name` is not registered (the message names the closest
            registered name).

        Examples
        --------
        >>> import regkit
        >>> reg = regkit.Regularizer.build("weight_l2", "*.W", 1e-4)
        >>> type(reg).__name__, reg.weight
        ('WeightL2', 0.0001)
        """
        if not cls.is_registered(name):
            close = difflib.get_close_matches(str(name), list(REGISTRY), n=1)
            raise ValueError("Regularizer.build: %s is not a registered "
                             "regularizer name%s" % (
                                 short_repr(name), "; did you mean %r?" % close[0]
                                 if close else ""))
        return REGISTRY[name.lower()](*args, **kwargs)

    #: The random streams of a regularizer that draws (a :class:`_Seeds`
    #: its ``__init__`` makes from ``rng``); None for one that does not.
    seeds = None

    #: What a graph change reports it changed, for the warning when that
    #: is nothing (``"output"``, ``"parameter"``); None: no such check.
    _matched = None

    def __init__(self, pattern=None, weight=0.0):
        patterns = _as_patterns(pattern, "%s: pattern" % type(self).__name__)
        self.pattern = pattern if isinstance(pattern, str) or pattern is None \
            else patterns
        self.weight = self._check_weight(weight)

    def _check_weight(self, weight):
        if _is_varying(weight):
            return self._check_varying_weight(weight)
        return check_positive(weight, type(self).__name__, "weight",
                              allow_zero=True)

    #: Whether a regularizer without a loss term takes a schedule or a
    #: symbolic scalar as its weight (a drop probability, a noise level, a
    #: maximum norm, a decay rate): its hook reads the weight at the step
    #: it is given (``get_outputs(..., step=)``,
    #: ``apply_update_hooks(..., step=)``).
    _varying_weight = False

    @classmethod
    def has_loss_term(cls):
        """Whether this class adds a term to the loss (it implements
        :meth:`loss`)."""
        return cls.loss is not Regularizer.loss

    @classmethod
    def takes_varying_weight(cls):
        """Whether this class's weight may be a schedule or a symbolic
        scalar: a loss term's coefficient, and the weight of
        :class:`BernoulliDropout`, :class:`GaussianNoise`,
        :class:`AlphaDropout`, :class:`MaxNorm`, :class:`UnitNorm`,
        :class:`MinMaxNorm` and :class:`DecoupledWeightDecay`.

        Examples
        --------
        >>> import regkit
        >>> regkit.BernoulliDropout.takes_varying_weight()
        True
        >>> regkit.StochasticDepth.takes_varying_weight()
        False
        """
        return cls.has_loss_term() or cls._varying_weight

    def _check_varying_weight(self, weight):
        name = type(self).__name__
        if not self.takes_varying_weight():
            raise TypeError(
                "%s: weight must be a number, got %s; a schedule or a "
                "symbolic weight is taken by loss terms (WeightL2, HiddenL1, "
                "...), dropout, noise, MaxNorm, UnitNorm, MinMaxNorm and "
                "DecoupledWeightDecay, not by %s" % (name, describe(weight),
                                                      name))
        if isinstance(weight, Schedule):
            # every value the schedule takes must be a weight this class
            # takes as a number (a drop probability below 1, a positive
            # maximum norm, ...)
            for bound in weight.bounds():
                try:
                    self._check_weight(bound)
                except ValueError as error:
                    raise ValueError("%s: weight %r reaches %g, which %s "
                                     "refuses (%s)" % (name, weight, bound,
                                                       name, error))
            return weight
        if weight.ndim != 0 or not str(weight.dtype).startswith(
                ("float", "int", "uint")):
            raise TypeError("%s: a symbolic weight must be a real scalar, "
                            "got a %d-d %s tensor" % (name, weight.ndim,
                                                      weight.dtype))
        return weight

    def weight_at(self, step, caller="weight_at"):
        """The weight at `step`: the number, the symbolic scalar, or a
        schedule's value at `step` (a float64 scalar); a schedule without a
        step is a TypeError naming ``step``."""
        if not isinstance(self.weight, Schedule):
            return self.weight
        if step is None:
            raise TypeError(
                "%s: the weight of %s is a schedule, %r; pass step= (a "
                "symbolic integer scalar such as step = regkit.step_counter(),"
                " advanced with (step, step + 1) in the updates)"
                % (caller, type(self).__name__, self.weight))
        return self.weight(step)

    def __repr__(self):
        config = ", ".join("%s=%r" % item for item in self.get_config().items())
        return "%s(%s)" % (type(self).__name__, config)

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_matcher_cache", None)  # a compiled pattern: rebuilt
        return state

    def _hold_seeds(self, rng):
        """Make this regularizer's :class:`_Seeds` from its seed `rng`
        (also kept as ``self.rng``, the constructor argument)."""
        self.seeds = _Seeds(rng, type(self).__name__)
        self.rng = self.seeds.rng

    def get_config(self):
        """The constructor arguments as a plain dict (see :func:`serialize`)."""
        pattern = self.pattern
        if isinstance(pattern, tuple):
            pattern = list(pattern)
        config = {"pattern": pattern, "weight": self.weight}
        if self.seeds is not None:
            config["rng"] = self.rng
        return config

    def check_matches(self, named):
        """Warn, once the graph is built, if this graph change changed
        nothing, or for each glob of its pattern that matched none of
        what it changed; the names come back from the build
        (:meth:`NetworkOutputs.changed_by`), so nothing is kept on the
        regularizer between graphs."""
        if self._matched is None:
            return
        hits = named.changed_by(self)
        if not hits:
            hint = ""
            if self.pattern is not None and self._matched != "parameter":
                hint = _available_hint(
                    self.pattern, [name for name in named
                                   if not _is_clean_copy(name)], "output")
            self._no_match(self._matched, hint=hint)
        else:
            self._warn_unmatched_globs(hits, self._matched)

    def log(self):
        """Log one line (level INFO, logger ``regkit``) describing this."""
        weight = self.weight
        if isinstance(weight, Schedule):
            weight = "scheduled: %r" % (weight,)
        elif backend.is_tensor(weight):
            weight = "symbolic: %s" % (weight,)
        logger.info("%s (weight %s) on %s", type(self).__name__,
                    "%g" % weight if isinstance(weight, float) else weight,
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

    def patterns(self, layers, outputs=None):
        """The globs this regularizer uses on the network `layers` (whose
        roles `outputs`, from get_outputs, already knows)."""
        return _resolve(self.pattern, self.default_roles, layers, outputs)

    def _no_match(self, what, argname="pattern", value=None, hint=""):
        warnings.warn("%s: %s %r matches no %s; it adds nothing%s"
                      % (type(self).__name__, argname,
                         self.pattern if value is None else value, what,
                         hint), UserWarning, stacklevel=3)

    def _warn_unmatched_globs(self, names, what):
        """Warn for each glob of a pattern of several that matches none of
        `names` (the names the whole pattern matched): a misspelt glob
        next to a good one would otherwise go unnoticed."""
        patterns = _as_patterns(self.pattern)
        if patterns is None or len(patterns) < 2:
            return
        for glob in _unmatched_globs(patterns, names):
            warnings.warn("%s: the glob %r of pattern %r matches no %s"
                          % (type(self).__name__, glob, list(patterns),
                             what), UserWarning, stacklevel=4)

    def output_names(self, layers, outputs):
        """Names of the outputs in `outputs` this regularizer applies to
        (warns if there are none); `layers` and `outputs` as for
        :meth:`loss`."""
        names = _select_outputs(self.patterns(layers, outputs), outputs)
        if not names:
            hint = _available_hint(
                self.pattern, [name for name in outputs
                               if not _is_clean_copy(name)], "output") \
                if self.pattern is not None else (
                    "; no layer has the role %s (regkit.layer_roles(network) "
                    "lists them); on a graph given by its loss, name the "
                    "prediction (p.name = 'p') or pass the prediction as the "
                    "network" % " or ".join(map(repr, self.default_roles)))
            self._no_match("output", hint=hint)
        else:
            self._warn_unmatched_globs(names, "output")
        return names

    def matches_output(self, outputs, name):
        """Whether output `name` of the layer dict `outputs` is selected."""
        if _is_clean_copy(name):
            return False
        if self.pattern is None:
            return outputs.role in self.default_roles \
                and name == "%s:out" % outputs.name
        return self._pattern_matcher()(name)

    def _pattern_matcher(self):
        """The matcher of ``self.pattern``, built once per pattern value
        (``pattern`` may be reassigned after construction)."""
        cached = self.__dict__.get("_matcher_cache")
        if cached is None or cached[0] is not self.pattern:
            cached = (self.pattern, _matcher(_as_patterns(self.pattern)))
            self.__dict__["_matcher_cache"] = cached
        return cached[1]


def term_labels(regularizers):
    """One label per regularizer: its registry name, then ``#2``, ``#3``
    for repeats (the labels of :func:`penalty_terms` and the audit).

    Examples
    --------
    >>> import regkit
    >>> from regkit.regularizers.audit import term_labels
    >>> term_labels([regkit.WeightL2(), regkit.MaxNorm(), regkit.WeightL2()])
    ['weight_l2', 'max_norm', 'weight_l2#2']
    """
    labels, seen = [], {}
    for reg in regularizers:
        base = reg.registry_name or type(reg).__name__
        seen[base] = seen.get(base, 0) + 1
        labels.append(base if seen[base] == 1 else "%s#%d" % (base,
                                                             seen[base]))
    return labels


def _as_regularizers(regularizers, caller, parametrizations=False):
    """`regularizers` (one or a list) as a list, or a TypeError; a
    parametrization (WeightNorm, Orthogonal) is one too unless
    `parametrizations` (the audit lists them): on the penalty, graph and
    update routes it would change nothing."""
    regs = as_instances(regularizers, Regularizer, caller, "regularizers",
                        "Regularizer objects")
    if not parametrizations:
        for reg in regs:
            _refuse_parametrization(reg, caller)
    return regs


def _refuse_parametrization(reg, caller):
    """A TypeError if `reg` is a parametrization, which only
    :func:`regkit.parametrize` applies."""
    if getattr(reg, "_parametrize_only", False):
        raise TypeError(
            "%s: %r is a parametrization: apply it with "
            "regkit.parametrize(network, [...]) and train the free "
            "parameters it returns; here it would change nothing"
            % (caller, reg))


class _ParamRegularizer(Regularizer):
    """Applies to the parameters with the given tags whose names match."""

    #: Whether a pattern, when given, selects among every trainable
    #: parameter by default (the update hooks: a constraint goes where it
    #: is named, biases too, as Keras puts one on any weight) rather than
    #: among the regularizable ones (penalties: no decay on biases).
    _named_means_trainable = False

    def __init__(self, pattern=None, weight=0.0, tags=None):
        super(_ParamRegularizer, self).__init__(pattern, weight)
        if tags is None:
            tags = {"trainable": True} if self._named_means_trainable \
                and pattern is not None else {"regularizable": True}
        self.tags = check_tags(tags, type(self).__name__)

    def get_config(self):
        config = super(_ParamRegularizer, self).get_config()
        config["tags"] = dict(self.tags)
        return config

    def named_params(self, layers):
        """(name, parameter) pairs this regularizer applies to (warns if
        there are none)."""
        caller = type(self).__name__
        every = as_network(layers, caller).named_params(caller=caller,
                                                        **self.tags)
        named = every
        if self.pattern is not None:
            match = self._pattern_matcher()
            named = [(name, param) for name, param in every if match(name)]
        if not named:
            self._no_match("parameter", hint=self._param_hint(
                layers, [name for name, _ in every]))
        else:
            self._warn_unmatched_globs([name for name, _ in named],
                                       "parameter")
        return named

    def _param_hint(self, layers, names):
        """Why a pattern matched no parameter: a Lasagne-style short name,
        parameters the pattern matches but the tag filter leaves out, or
        the names that exist (closest first)."""
        hint = _short_name_hint(self.pattern, names)
        if hint or self.pattern is None:
            return hint
        caller = type(self).__name__
        match = self._pattern_matcher()
        every = [name for name, _ in as_network(layers, caller).named_params(
            caller=caller)]
        filtered = [name for name in every if match(name)]
        if filtered:
            return ("; %s match%s the pattern but not the tag filter "
                    "tags=%r (pass tags={'trainable': True} to include "
                    "biases, or the tags they have)"
                    % (", ".join(map(repr, filtered[:8])),
                       "es" if len(filtered) == 1 else "",
                       dict(self.tags)))
        return _available_hint(self.pattern, every, "parameter")

    def params(self, layers):
        """The parameters (shared variables) this regularizer applies to."""
        return [param for _, param in self.named_params(layers)]

    def accepts(self, param):
        """Whether a graph change on weights (:func:`change_weights`)
        takes `param`, which the pattern matched: all are, unless a
        subclass says otherwise."""
        return True

    def _chosen(self, updates):
        """(name, parameter) of the matching parameters for an update hook:
        looked up on the network of a ParamUpdates, else matched by each
        updated shared variable's own name."""
        network = getattr(updates, "network", None)
        if network is not None:
            return self.named_params(network)
        if self.pattern is None:
            return [(param.name, param) for param in updates]
        match = self._pattern_matcher()
        return [(param.name, param) for param in updates
                if param.name is not None and match(param.name)]


def _is_varying(weight):
    """Whether `weight` is a schedule or a symbolic scalar (not a number)."""
    return isinstance(weight, Schedule) or backend.is_tensor(weight)


def _check_drop_probability(weight, caller):
    """`weight` (already a non-negative float, or a varying weight, whose
    values were checked) as a drop probability."""
    if not _is_varying(weight) and weight >= 1:
        raise ValueError("%s: weight (the drop probability) must be below "
                         "1, got %r" % (caller, weight))
    return weight


class _Seeds(object):
    """The random streams of a regularizer that draws, held as its
    ``seeds``: the seed ``rng`` (kept in its config) and one independent
    child of ``SeedSequence(rng)`` per draw (numpy's
    ``SeedSequence.spawn``), so no two draws share a stream.

    Examples
    --------
    >>> from regkit.regularizers.base import _Seeds
    >>> seeds = _Seeds(0, "mine")
    >>> seeds.spawn().entropy == seeds.spawn().entropy  # same root
    True
    """

    def __init__(self, rng, caller):
        self.rng = check_seed(rng, caller)
        self._root = seed_sequence(self.rng)

    def spawn(self):
        """The seed sequence of the next draw."""
        return self._root.spawn(1)[0]


def change_weights(reg, outputs):
    """The graph change of a regularizer on weights (DropConnect, spectral
    normalization), for its ``modify_graph``: each parameter of the layer
    that `reg` selects (its tags and pattern, and ``reg.accepts(param)``)
    is replaced by ``reg.change(param, name)`` in every output of that
    layer (the parameter itself, and so every other layer sharing it, is
    left alone).  Returns the names of the parameters it changed."""
    layer = outputs.layer
    params = getattr(layer, "params", None)
    if not params:
        return []
    kept = set(filter_tags(params, reg.tags))
    match = reg._pattern_matcher() if reg.pattern is not None else None
    replace, names = {}, []
    for index, param in enumerate(params):
        if param not in kept:
            continue
        name = outputs.param_names.get(param) or param_name(
            layer, param, index, outputs.name)
        if (match is None or match(name)) and reg.accepts(param):
            replace[param] = reg.change(param, name)
            names.append(name)
    if replace:
        for key in list(outputs):
            if not _is_clean_copy(key):
                outputs[key] = backend.clone_replace(outputs[key], replace)
    return names
