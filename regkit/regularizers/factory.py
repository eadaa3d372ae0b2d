"""Building regularizers from keywords and from plain dicts, and summing
their terms into one penalty."""
from collections.abc import Mapping
import difflib
import inspect
import warnings

import numpy as np

from .. import backend
from .._checks import check_seed, describe, short_repr
from ..layers.graph import VariableLayer
from ..layers.network import as_network
from ..schedules import Schedule, deserialize_schedule
from .base import (REGISTRY, Regularizer, _as_regularizers,
                   _refuse_parametrization)
from .patterns import _glob_escape, _names_by_role
from .stochastic import BernoulliDropout, GaussianNoise

__all__ = ["from_kwargs", "serialize", "deserialize"]


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


#: What a symbolic graph's hidden layer is, for the warning of a role
#: keyword that finds none.
_GRAPH_ROLE_HINT = (
    "; on a symbolic graph a hidden layer is a variable you named between "
    "the inputs and the output (h1.name = 'h1') or a unit found by its "
    "matrix product or convolution with a weight (with its bias and "
    "nonlinearity); other unnamed variables are part of the layer that "
    "reads them")


def _is_graph(network):
    """Whether the record `network` reads a symbolic graph."""
    return any(isinstance(layer, VariableLayer) for layer in network.layers)


def from_kwargs(network, regularizers=None, rng=None, **kwargs):
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
    regularizers : list of Regularizer, dict or None
        theanets' keyword: Regularizer objects, which come first in the
        result, or a dict ``{keyword: value}`` merged with the other
        keywords (a keyword given both ways is a TypeError).
    rng : int or None
        Seeds every regularizer built here that draws random numbers
        (``draws_random``: dropout, noise, DropConnect, stochastic depth,
        Jacobian projections, the power-iteration starts) and is not given
        an ``rng`` of its own: each gets its own seed, spawned from
        ``SeedSequence(rng)`` in keyword order, so they never draw the same
        masks and the whole set repeats with the same `rng`.

    Returns
    -------
    list of Regularizer, the given objects first, then in keyword order.

    Raises
    ------
    TypeError
        An unknown keyword (the message names the closest valid one), or a
        value of the wrong kind.

    Examples
    --------
    >>> import regkit
    >>> from regkit import from_kwargs
    >>> net = regkit.DenseLayer(regkit.DenseLayer(
    ...     regkit.InputLayer((None, 4)), 8, name="hid"), 2, name="out")
    >>> regs = from_kwargs(net, weight_l2=1e-4, hidden_dropout=0.5)
    >>> [type(r).__name__ for r in regs], regs[1].pattern
    (['WeightL2', 'BernoulliDropout'], ('hid:out',))
    """
    network = as_network(network, "from_kwargs", "network")
    result = []
    if isinstance(regularizers, Mapping):
        both = sorted(set(regularizers) & set(kwargs))
        if both:
            raise TypeError("from_kwargs: %r is given both as a keyword and "
                            "in regularizers" % both[0])
        kwargs = dict(regularizers, **kwargs)
    elif regularizers is not None:
        result.extend(_as_regularizers(regularizers, "from_kwargs"))
    rng = check_seed(rng, "from_kwargs")
    seeds = None if rng is None else np.random.SeedSequence(rng)
    roles = _names_by_role(network)
    stacked = [key for key in kwargs
               if key in _ROLE_KEYWORDS and kwargs[key] is not None]
    if stacked:
        own = network.training_only_layers()
        if own:
            warnings.warn(
                "from_kwargs: %s adds regkit's dropout or noise to a network "
                "that has its own (%s); the roles leave those layers out, "
                "but check that you want both" % (
                    ", ".join(stacked), ", ".join(
                        repr(getattr(layer, "name", None) or layer)
                        for layer in own[:5])), UserWarning, stacklevel=2)

    def build(cls, args, source, *positional):
        args = dict(args)
        if seeds is not None and cls.draws_random and args.get("rng") is None:
            args["rng"] = int(seeds.spawn(1)[0].generate_state(1)[0])
        reg = _construct(cls, args, source, *positional)
        _refuse_parametrization(reg, source)
        result.append(reg)

    for key, value in kwargs.items():
        if value is None:
            continue
        if key in _ROLE_KEYWORDS:
            cls, role = _ROLE_KEYWORDS[key]
            patterns = ["%s:out" % _glob_escape(name) for name in roles[role]]
            if not patterns:
                warnings.warn(
                    "from_kwargs: %s=%r but the network has no %s layer%s"
                    % (key, value, role, _GRAPH_ROLE_HINT
                       if role == "hidden" and _is_graph(network) else ""),
                    UserWarning, stacklevel=2)
                continue
            if isinstance(value, Mapping):
                if "pattern" in value:
                    raise TypeError("from_kwargs: %s chooses the pattern "
                                    "itself; use %s={glob: ...} or the class "
                                    "to give one" % (key, _GLOB_NAME[cls]))
                build(cls, value, "from_kwargs: " + key, patterns)
            else:
                build(cls, {"weight": value}, "from_kwargs: " + key, patterns)
        elif key in _GLOB_KEYWORDS:
            if not isinstance(value, Mapping):
                raise TypeError("from_kwargs: %s must be a dict {glob: value},"
                                " got %s" % (key, describe(value)))
            for glob, weight in value.items():
                build(_GLOB_KEYWORDS[key], {"weight": weight},
                      "from_kwargs: " + key, glob)
        elif key in REGISTRY:
            cls = REGISTRY[key]
            build(cls, value if isinstance(value, Mapping)
                  else {"weight": value}, "from_kwargs: " + key)
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
            raise TypeError("%s got %s, which %s does not take (it takes "
                            "%s)%s" % (
                                source, short_repr(name), cls.__name__,
                                ", ".join(accepted),
                                _did_you_mean(name, accepted)))
    return cls(*positional, **args)


def serialize(reg):
    """A plain dict ``{"name": <registry name>, "config": get_config()}``.

    Examples
    --------
    >>> from regkit import WeightL2, serialize
    >>> serialize(WeightL2("*.W", 1e-4))["name"]
    'weight_l2'

    A scheduled weight is kept as the schedule's own dict:

    >>> from regkit.schedules import Linear
    >>> serialize(WeightL2(weight=Linear(0, 1e-4, 100)))["config"]["weight"]
    {'name': 'linear', 'config': {'start': 0.0, 'stop': 0.0001, 'steps': 100}}
    """
    if not isinstance(reg, Regularizer):
        raise TypeError("serialize: expected a Regularizer, got %s"
                        % describe(reg))
    config = dict(reg.get_config())
    weight = config.get("weight")
    if isinstance(weight, Schedule):
        config["weight"] = weight.serialize()
    elif backend.is_tensor(weight):
        raise TypeError("serialize: the weight of %s is symbolic (%s); a "
                        "config holds numbers and schedules (see "
                        "regkit.schedules), so give one of those or pickle "
                        "the regularizer" % (type(reg).__name__, weight))
    return {"name": type(reg).registry_name, "config": config}


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
    >>> from regkit import deserialize
    >>> reg = deserialize({"name": "weight_decay", "config": {"weight": 0.1}})
    >>> type(reg).__name__, reg.weight
    ('WeightL2', 0.1)
    """
    if not isinstance(data, Mapping) or "name" not in data:
        raise TypeError("deserialize: data must be a dict with 'name' and "
                        "'config', got %s" % describe(data))
    name = data["name"]
    config = data.get("config")
    if config is None:
        config = {}
    if not isinstance(name, str) or name not in REGISTRY:
        raise ValueError("deserialize: %s is not a registered regularizer "
                         "name" % short_repr(name))
    if not isinstance(config, Mapping):
        raise TypeError("deserialize: config must be a dict, got %s"
                        % describe(config))
    weight = config.get("weight")
    if isinstance(weight, Mapping) and set(weight) == {"name", "config"}:
        # a serialized schedule (an unknown name: deserialize_schedule
        # says which names exist)
        config = dict(config, weight=deserialize_schedule(weight))
    return _construct(REGISTRY[name], config,
                      "deserialize: %r" % name)
