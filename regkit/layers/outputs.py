"""The named outputs of a network, and the hooks that change them.

:func:`get_outputs` names every output ``"<layer name>:<output>"``: every
layer has ``"<name>:out"``, a :class:`~regkit.layers.DenseLayer` also
``"<name>:pre"`` (the activation before its nonlinearity), with the
automatic names of :func:`~regkit.layers.layer_names` for unnamed layers.
While it builds the graph it calls the hooks of the regularizers it is
given, through the small protocol :class:`OutputHook`: this module
defines what it calls, and :class:`regkit.Regularizer` implements it, so
layers never import regularizers.

Examples
--------
>>> from regkit import DenseLayer, InputLayer, get_outputs
>>> outs = get_outputs(DenseLayer(InputLayer((None, 3), name="in"), 2,
...                               name="out"))
>>> list(outs), outs.roles["out"]
(['in:out', 'out:pre', 'out:out'], 'output')
"""
from collections import OrderedDict, namedtuple
import difflib
import inspect
import warnings

from .. import backend
from .._checks import is_collection
from ..schedules import check_step
from .base import _check_shape
from .hooks import LayerOutputs, NetworkOutputs, as_hooks
from .network import as_network
from .walk import is_layer

__all__ = ["get_output", "get_outputs", "apply_regularizers",
           "RegularizedGraph"]


def _input_map(network, inputs, caller):
    """Layer -> given symbolic input, from the `inputs` argument, for the
    record `network`."""
    if inputs is None:
        return {}
    if isinstance(inputs, dict):
        given = {}
        for key, expr in inputs.items():
            if not is_layer(key):
                raise TypeError("%s: the keys of inputs must be layers, got "
                                "%r" % (caller, key))
            given[key] = _as_input_expr(expr, key, caller)
        walked = set(network.layers)
        outside = [key for key in given if key not in walked]
        if outside:
            raise ValueError("%s: inputs names %r, which is not a layer of "
                             "the network" % (caller, outside[0]))
        return given
    input_layers = [layer for layer in network.layers
                    if layer in network.inputs]
    if len(input_layers) != 1:
        raise ValueError(
            "%s: inputs is one expression but the network has %d input "
            "layers (%r); pass a dict {input layer: expression}"
            % (caller, len(input_layers), input_layers))
    return {input_layers[0]: _as_input_expr(inputs, input_layers[0], caller)}


def _as_input_expr(expr, layer, caller):
    try:
        expr = backend.as_tensor_variable(expr)
    except Exception as exc:
        raise TypeError("%s: the input for %r must be a symbolic tensor or "
                        "an array, got %r (%s)" % (caller, layer, expr, exc))
    _check_shape(expr, layer.output_shape, caller,
                 "the input for %r" % (layer,))
    return expr


def _build_outputs(layer_or_layers, inputs=None, regularizers=(),
                   deterministic=False, kwargs=None, caller="get_outputs",
                   argname="layer_or_layers", step=None):
    """Build the graph once from the network's record; return (queried
    layers, layer -> output, name -> output for every named output; the
    last a NetworkOutputs that holds the record)."""
    full = as_network(layer_or_layers, caller, argname)
    queried = full.queried
    step = check_step(step, caller)
    regularizers = as_hooks(regularizers, caller)
    if deterministic:
        regularizers = [r for r in regularizers if not r.training_only]
    given = _input_map(full, inputs, caller)
    network = full.below(list(given))
    all_layers, roles, names = network.layers, network.roles, network.names
    kwargs = kwargs or {}
    _check_layer_kwargs(all_layers, kwargs, caller)
    params = network.param_names(unwrap_shared=False) if regularizers else {}
    kwargs = dict(kwargs, deterministic=deterministic)
    layer_out = {}
    named = NetworkOutputs()
    named.network = full
    for layer in all_layers:
        values = []  # the layer's inputs
        if layer in given:
            outs = OrderedDict(out=given[layer])
        elif layer in network.inputs:
            outs = OrderedDict(out=layer.input_var)
        else:
            sources = network.sources(layer)
            missing = [s for s in sources if s is None]
            if missing:
                raise ValueError(
                    "%s: %r was built from a shape, not a layer; pass its "
                    "input in inputs={layer: expression}" % (caller, layer))
            unbuilt = [s for s in sources if s not in layer_out]
            if unbuilt:  # only a cycle reads a layer not built yet
                raise ValueError(
                    "%s: the layers form a cycle: %r reads %r, which depends "
                    "on it" % (caller, layer, unbuilt[0]))
            values = [layer_out[s] for s in sources]
            outs = _layer_outputs(layer, network.input_arg(layer, values),
                                  kwargs)
            if "out" not in outs:
                raise ValueError("%s: %s.get_outputs_for must return a dict "
                                 "with the key 'out', got keys %r"
                                 % (caller, type(layer).__name__, list(outs)))
        prefix = names[layer]
        outs = LayerOutputs(layer, prefix, roles[layer],
                            (("%s:%s" % (prefix, key), value)
                             for key, value in outs.items()))
        outs.inputs, outs.deterministic = tuple(values), deterministic
        outs.step = step
        outs.param_names, outs.kwargs = params, kwargs
        outs.network = network
        outs.built = OrderedDict(outs)
        original = list(outs.items())
        for reg in regularizers:
            changed = reg.modify_graph(outs)
            if isinstance(changed, (list, tuple)) and changed:
                # what it changed (a hook of one's own may return nothing)
                named.record_changes(reg, changed)
        _propagate_changes(outs, original, values)
        layer_out[layer] = outs["%s:out" % prefix]
        named.add(outs)
    for reg in regularizers:
        reg.check_matches(named)
    return queried, layer_out, named


def _check_layer_kwargs(all_layers, kwargs, caller):
    """Warn, as Lasagne's get_output does, about keyword arguments that no
    layer takes (a misspelt ``batch_norm_use_avrages=True`` would do
    nothing): checked when the layers declare what they take, in
    Lasagne's ``get_output_kwargs`` lists."""
    declared = [getattr(layer, "get_output_kwargs", None)
                for layer in all_layers]
    if not kwargs or all(names is None for names in declared):
        return
    accepted = {"deterministic"}
    for layer, names in zip(all_layers, declared):
        accepted.update(names or ())
        accepted.update(_keyword_names(layer))
    unused = sorted(set(kwargs) - accepted)
    if not unused:
        return
    hints = []
    for name in unused:
        close = difflib.get_close_matches(name, sorted(accepted), n=1)
        hints.append("%r%s" % (name, " (perhaps you meant %r?)" % close[0]
                               if close else ""))
    warnings.warn("%s: no layer takes the keyword argument(s) %s; they are "
                  "ignored" % (caller, ", ".join(hints)), UserWarning,
                  stacklevel=4)


def _keyword_names(layer):
    """The named keyword parameters of ``layer.get_output_for`` (Lasagne's
    BatchNormLayer declares ``batch_norm_use_averages`` only there)."""
    try:
        params = inspect.signature(layer.get_output_for).parameters
    except (TypeError, ValueError, AttributeError):
        return ()
    return [name for name, param in list(params.items())[1:]
            if param.kind in (param.POSITIONAL_OR_KEYWORD,
                              param.KEYWORD_ONLY)]


def _layer_outputs(layer, arg, kwargs):
    """The named outputs of `layer` on its input(s) `arg`: regkit's layers
    give several (``get_outputs_for``); a Lasagne layer or a graph's
    variable gives its output (``get_output_for``) as ``"out"``."""
    if hasattr(layer, "get_outputs_for"):
        return layer.get_outputs_for(arg, **kwargs)
    return OrderedDict(out=layer.get_output_for(arg, **kwargs))


def _propagate_changes(outs, original, inputs):
    """Make the hooks' changes of a layer's intermediate outputs reach its
    later outputs.

    A hook that replaces ``"hid:pre"`` (noise on the activation) must change
    ``"hid:out"``, which the layer computed from the clean activation: each
    output the layer returned is rebuilt on the replaced values of the
    others (``clone_replace``), on top of any change a hook made to it
    directly (dropout on ``"hid:out"`` then applies to the noisy
    activation).  Keys the hooks added (the clean copies) stay as they are.
    The search stops at the layer's `inputs`, so it costs the size of one
    layer's graph, not of the network below it.
    """
    changed = [(key, old) for key, old in original if outs[key] is not old]
    if not changed:
        return
    for key, _ in original:
        replace = {old: outs[other] for other, old in changed
                   if other != key}
        if replace and any(backend.depends_on(outs[key], old, inputs)
                           for old in replace):
            outs[key] = backend.clone_replace(outs[key], replace)


def get_output(layer_or_layers, inputs=None, regularizers=(),
               deterministic=False, step=None, **kwargs):
    """The symbolic output of one layer or of several.

    Parameters
    ----------
    layer_or_layers : Layer or list of Layer
    inputs : None, expression or dict
        ``None``: every :class:`InputLayer` uses its ``input_var``.  One
        expression: the input of the network's only input layer.  A dict
        ``{layer: expression}``: use the expression as that layer's output
        (the layers below it are not walked).
    regularizers : list of Regularizer (or of OutputHook)
        Their ``modify_graph`` hook runs on each layer's named outputs
        before later layers read them (dropout, noise); see
        :class:`OutputHook`.
    deterministic : bool
        True builds the inference graph: the training-only regularizers
        (dropout, noise, DropConnect) leave the graph unchanged; the
        others apply their inference form (spectral normalization divides
        by its estimate, stochastic depth scales its branch).  Also passed
        on to every layer's ``get_output_for``.
    step : symbolic integer scalar, int or None
        The step at which the regularizers' schedules are evaluated (a
        drop probability or a noise level that varies; see
        :mod:`regkit.schedules`); needed when such a weight is a schedule.
    **kwargs
        Passed on to every layer's ``get_output_for``.

    Returns
    -------
    A symbolic expression, or a list of them if a list of layers was given.

    Raises
    ------
    TypeError
        A dict key that is not a layer, an input that is not a tensor.
    ValueError
        One expression for a network with several input layers, an input
        with the wrong number of dimensions, a layer built from a shape
        whose input is not given.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import DenseLayer, InputLayer, get_output
    >>> l_in = InputLayer((None, 3))
    >>> l_out = DenseLayer(l_in, 2, W=np.ones((3, 2)), nonlinearity=None)
    >>> get_output(l_out).eval({l_in.input_var: np.ones((1, 3))})
    array([[3., 3.]])
    """
    queried, layer_out, _ = _build_outputs(
        layer_or_layers, inputs, regularizers, deterministic, kwargs,
        "get_output", step=step)
    outputs = [layer_out[layer] for layer in queried]
    return outputs[0] if _is_single(layer_or_layers) else outputs


def _is_single(network):
    """Whether the network argument is one layer or expression, not a
    list of them (already checked by the build; ``is_layer`` would read
    the layer's inputs again)."""
    return backend.is_tensor(network) or not is_collection(network)


def get_outputs(layer_or_layers, inputs=None, regularizers=(),
                deterministic=False, step=None, **kwargs):
    """Every named output of the network, after the regularizers ran.

    Takes the same arguments as :func:`get_output`.  Keys are
    ``"<layer name>:out"`` for every layer below `layer_or_layers` and
    ``"<layer name>:pre"`` for dense layers, with automatic names for
    unnamed layers (see :func:`layer_names`); regularizers may add keys
    such as ``"hid:out-predrop"``.

    Returns
    -------
    NetworkOutputs
        An ordered dict name -> symbolic expression, in the order of
        :func:`get_all_layers`, that also knows each layer's name and role
        (so regularizers given it do not walk the network again).

    Examples
    --------
    >>> from regkit import DenseLayer, InputLayer, get_outputs
    >>> l_in = InputLayer((None, 3), name="in")
    >>> l_out = DenseLayer(l_in, 2, name="out")
    >>> list(get_outputs(l_out))
    ['in:out', 'out:pre', 'out:out']
    """
    return _build_outputs(layer_or_layers, inputs, regularizers,
                          deterministic, kwargs, "get_outputs", step=step)[2]


class RegularizedGraph(namedtuple("RegularizedGraph",
                                  "train inference updates outputs")):
    """What :func:`apply_regularizers` returns: the outputs with the
    regularizers' changes (``train``), the outputs with their inference
    form (``inference``), the random updates the training graph needs
    (``updates``), and every named output of the training graph
    (``outputs``, a NetworkOutputs).

    ``graph.updates`` is looked up when read: it also covers the draws
    that loss terms built on ``graph.outputs`` since recorded there (a
    :class:`~regkit.regularizers.JacobianProjection`'s projections), so
    ``sgd + graph.updates`` draws everything afresh whichever terms the
    loss holds.  (Unpacking the tuple gives the updates of the moment it
    was built.)
    """

    __slots__ = ()

    @property
    def updates(self):
        return backend.random_updates(self.train, self.outputs)


def apply_regularizers(outputs, regularizers, step=None):
    """Insert the regularizers' graph changes (dropout, noise) into an
    existing graph, by replacement.

    The network is not rebuilt: each named variable the regularizers
    select (see :mod:`regkit.layers.graph`) is replaced by its changed
    value, and everything computed from it is recomputed on the change.
    Works the same on regkit's layers and on Lasagne-style ones (then
    `outputs` is the output layer or layers).

    Parameters
    ----------
    outputs : expression, list of expressions, or layer(s)
        The model's output(s), e.g. its prediction or its loss.
    regularizers : list of Regularizer
        Those with a ``modify_graph`` hook change the training graph;
        the others are ignored here (add their ``loss`` with
        :func:`~regkit.regularizers.total_penalty`).
    step : symbolic integer scalar, int or None
        As for :func:`get_output`.

    Returns
    -------
    RegularizedGraph
        ``(train, inference, updates, outputs)``: the training output(s)
        (one expression if one was given), the inference output(s) (the
        graph with the inference form of the regularizers that have one,
        as ``get_output(..., deterministic=True)`` builds it: spectral
        normalization divides, stochastic depth scales; dropout and noise
        are left out, so with only those it is the graph as given), the
        random updates for
        ``function(..., updates=...)``, and every named output of the
        training graph.

    Examples
    --------
    >>> import numpy as np
    >>> import regkit
    >>> from regkit import backend
    >>> x = backend.tensor.matrix("x")
    >>> W = backend.shared(np.ones((4, 3)), name="W")
    >>> h = backend.tensor.tanh(x)
    >>> h.name = "h"
    >>> y = backend.tensor.dot(h, W)
    >>> graph = regkit.apply_regularizers(
    ...     y, [regkit.BernoulliDropout("h:out", 0.5, rng=0)])
    >>> graph.inference is y, len(graph.updates)
    (True, 1)
    >>> train = backend.function([x], graph.train, updates=graph.updates)
    >>> train(np.ones((1, 4))).shape
    (1, 3)
    """
    caller = "apply_regularizers"
    layers, layer_out, named = _build_outputs(
        outputs, regularizers=regularizers, caller=caller, argname="outputs",
        step=step)
    train = [layer_out[layer] for layer in layers]
    # the inference graph applies what is not training-only (spectral
    # normalization's division, stochastic depth's scaling), exactly as
    # get_output(..., deterministic=True) does; the second build reads the
    # record the first one made (named holds it)
    _, plain, _ = _build_outputs(named.network, regularizers=regularizers,
                                 deterministic=True, caller=caller, step=step)
    inference = [plain[layer] for layer in layers]
    single = _is_single(outputs)
    if single:
        train, inference = train[0], inference[0]
    return RegularizedGraph(train, inference, backend.random_updates(train),
                            named)
