"""A minimal layer graph whose parameters carry tags.

This is the part of Lasagne's layer API that regularization needs: layers
that register their parameters with tags (``trainable``, ``regularizable``
or any name of your own), a walk over the graph below a layer, and the
symbolic output of the graph.

Layer names
-----------
A parameter is named ``"<layer name>.<param name>"`` (``"hid1.W"``) when its
layer has a name, else just ``"<param name>"``.  Regkit never renames a
variable you pass in: the qualified name lives in :attr:`Layer.param_names`.

:func:`get_outputs` names every output ``"<layer name>:<output>"``: every
layer has ``"<name>:out"``, a :class:`DenseLayer` also ``"<name>:pre"`` (the
activation before its nonlinearity).  A layer without a name gets an
automatic one from :func:`layer_names`: its class name, lowercased, without
the ``Layer`` suffix, and a 1-based count of the layers of that kind in the
order of :func:`get_all_layers` (``input1``, ``dense1``, ``dense2``).  The
names depend only on the network's structure, so they are the same in
every run and every process.

Initialisation and random streams
---------------------------------
Parameters created from a callable spec (``W=GlorotUniform()``) draw from
the generator returned by :func:`get_rng`, a numpy Generator with a fixed
seed until :func:`set_rng` replaces it, so a script builds the same network
every time it runs.

A stochastic regularizer built without a seed (``rng=None``) takes the
next child of regkit's root ``numpy.random.SeedSequence``
(:func:`spawn_seed_sequence`), whose seed is fixed until ``set_rng`` is
called with an int: regularizers built in the same order get the same
streams in every process, and no two of them share one.
"""
from collections import OrderedDict
import numbers

import numpy as np

from . import backend
from . import nonlinearities
from ._checks import (_as_real, _describe, _is_collection, _is_int,
                      check_positive)
from .nonlinearities import (  # noqa: F401  (re-exported for convenience)
    identity, linear, rectify, sigmoid, softmax, tanh)

__all__ = [
    "Layer", "MergeLayer", "InputLayer", "DenseLayer", "ElemwiseSumLayer",
    "GlorotUniform", "Constant", "get_rng", "set_rng", "spawn_seed_sequence",
    "get_all_layers", "get_all_params", "count_params",
    "get_all_param_values", "set_all_param_values",
    "layer_names", "layer_roles", "named_params", "LayerOutputs", "get_output",
    "get_outputs",
    "rectify", "sigmoid", "tanh", "softmax", "identity", "linear",
]

T = backend.tensor

DEFAULT_SEED = 1234
_rng = np.random.default_rng(DEFAULT_SEED)
_root_seed_sequence = np.random.SeedSequence(DEFAULT_SEED)


# ---------------------------------------------------------------- random --

def get_rng():
    """The numpy generator that parameter initialisers draw from.

    Examples
    --------
    >>> import numpy as np
    >>> isinstance(get_rng(), np.random.Generator)
    True
    """
    return _rng


def set_rng(rng):
    """Replace the generator that parameter initialisers draw from.

    Parameters
    ----------
    rng : int, numpy.random.Generator or numpy.random.RandomState
        A seed or a generator.  An int seed also restarts the root of the
        random streams that stochastic regularizers built afterwards without
        a seed of their own draw from (:func:`spawn_seed_sequence`), so
        ``set_rng(seed)`` at the top of a script reproduces the whole run;
        a generator only replaces the initialisers' generator.

    Examples
    --------
    >>> set_rng(42)
    >>> a = GlorotUniform()((2, 3))
    >>> set_rng(42)
    >>> bool((GlorotUniform()((2, 3)) == a).all())
    True
    """
    global _rng, _root_seed_sequence
    _rng = _as_generator(rng, "set_rng")
    if _is_int(rng):
        _root_seed_sequence = np.random.SeedSequence(int(rng))


def spawn_seed_sequence():
    """A new child of regkit's root seed sequence.

    Each call returns a ``numpy.random.SeedSequence`` independent of every
    other one returned before (numpy's spawning guarantees that their
    streams do not overlap).  The root is ``SeedSequence(DEFAULT_SEED)``
    until :func:`set_rng` is given an int seed, so the n-th child is the
    same in every process.

    Examples
    --------
    >>> set_rng(7)
    >>> a, b = spawn_seed_sequence(), spawn_seed_sequence()
    >>> a.spawn_key, b.spawn_key
    ((0,), (1,))
    """
    return _root_seed_sequence.spawn(1)[0]


def _as_generator(rng, caller):
    """`rng` (an int seed, a numpy Generator or a RandomState) as a
    generator, or a TypeError."""
    if _is_int(rng):
        rng = np.random.default_rng(int(rng))
    if not isinstance(rng, (np.random.Generator, np.random.RandomState)):
        raise TypeError("%s: rng must be an int seed, a numpy Generator or a "
                        "RandomState, got %s" % (caller, _describe(rng)))
    return rng


class GlorotUniform(object):
    r"""Glorot (Xavier) uniform initialiser.

    Draws from :math:`U(-a, a)` with
    :math:`a = \mathrm{gain}\sqrt{6 / (\mathrm{fan_{in}} + \mathrm{fan_{out}})}`
    (Glorot and Bengio, 2010).  For a 2-D shape ``(in, out)`` the fans are
    ``in`` and ``out``; for N-D shapes ``(out, in, *receptive)`` they are
    multiplied by the receptive field size.

    Parameters
    ----------
    gain : float or "relu"
        Positive scale factor; ``"relu"`` means ``sqrt(2)``, which suits
        rectifiers (as in Lasagne).
    rng : int, numpy Generator or RandomState, optional
        Defaults to :func:`get_rng` at the time of the call.

    Examples
    --------
    >>> w = GlorotUniform()((100, 50))
    >>> w.shape, bool(abs(w).max() <= np.sqrt(6.0 / 150))
    ((100, 50), True)
    """

    def __init__(self, gain=1.0, rng=None):
        if isinstance(gain, str) and gain == "relu":
            gain = np.sqrt(2.0)
        self.gain = check_positive(gain, "GlorotUniform", "gain")
        self.rng = None if rng is None else _as_generator(rng,
                                                          "GlorotUniform")

    def __call__(self, shape):
        if len(shape) < 2:
            raise ValueError("GlorotUniform: shape must have at least 2 "
                             "dimensions, got %r" % (shape,))
        if len(shape) == 2:
            fan_in, fan_out = shape
        else:
            receptive = int(np.prod(shape[2:]))
            fan_in, fan_out = shape[1] * receptive, shape[0] * receptive
        bound = self.gain * np.sqrt(6.0 / (fan_in + fan_out))
        rng = self.rng if self.rng is not None else get_rng()
        return rng.uniform(-bound, bound, size=shape)


class Constant(object):
    """Initialiser that fills the parameter with one value.

    Parameters
    ----------
    value : float
        A finite number.

    Examples
    --------
    >>> Constant(0.5)((2,))
    array([0.5, 0.5])
    """

    def __init__(self, value=0.0):
        self.value = _as_real(value, "Constant", "value")
        if not np.isfinite(self.value):
            raise ValueError("Constant: value must be finite, got %r"
                             % (self.value,))

    def __call__(self, shape):
        return np.full(shape, self.value, dtype=float)


# ---------------------------------------------------------------- layers --

def _as_shape(shape, argname, owner, allow_none=True):
    """Validate a shape: a tuple of positive ints (or None where allowed)."""
    if not isinstance(shape, (tuple, list)):
        raise TypeError("%s: %s must be a tuple of ints, got %r"
                        % (owner, argname, shape))
    out = []
    for dim in shape:
        if dim is None and allow_none:
            out.append(None)
            continue
        if not _is_int(dim):
            raise TypeError("%s: every dimension of %s must be an int%s, "
                            "got %r" % (owner, argname,
                                        " or None" if allow_none else "",
                                        shape))
        if dim <= 0:
            raise ValueError("%s: every dimension of %s must be positive, "
                             "got %r" % (owner, argname, tuple(shape)))
        out.append(int(dim))
    return tuple(out)


def _checked_output_shape(layer, shape):
    """`shape`, from ``layer.get_output_shape_for``, or a ValueError if a
    dimension is symbolic (shapes hold ints and None, as in Lasagne)."""
    if any(isinstance(dim, backend.Variable) for dim in shape):
        raise ValueError(
            "%s (name=%r): get_output_shape_for returned a symbolic shape "
            "%r; output shapes must hold ints for known sizes and None for "
            "sizes known only at run time"
            % (type(layer).__name__, layer.name, tuple(shape)))
    return tuple(shape)


class Layer(object):
    """Base class of every layer with one input.

    Parameters
    ----------
    incoming : Layer or tuple
        The layer feeding this one, or the shape of its input (a tuple of
        ints, ``None`` for a dimension unknown until run time).
    name : str, optional
        Name of the layer; parameter names are prefixed with it.

    Attributes
    ----------
    params : OrderedDict
        Parameter -> set of its tag names, in registration order.
    param_names : OrderedDict
        Parameter -> its qualified name (``"hid1.W"``).

    Examples
    --------
    >>> class Double(Layer):
    ...     def get_output_for(self, input, **kwargs):
    ...         return 2 * input
    >>> Double((None, 3)).output_shape
    (None, 3)
    """

    def __init__(self, incoming, name=None):
        if isinstance(incoming, Layer):
            self.input_layer = incoming
            self.input_shape = incoming.output_shape
        elif isinstance(incoming, (tuple, list)):
            self.input_layer = None
            self.input_shape = _as_shape(incoming, "incoming",
                                         type(self).__name__)
        else:
            raise TypeError("%s: incoming must be a Layer or a shape tuple, "
                            "got %r" % (type(self).__name__, incoming))
        self.name = _check_name(name, type(self).__name__)
        self.params = OrderedDict()
        self.param_names = OrderedDict()

    def __repr__(self):
        return "%s(name=%r, output_shape=%r)" % (
            type(self).__name__, self.name, self.output_shape)

    @property
    def output_shape(self):
        """The shape of this layer's output (``None`` where unknown)."""
        return _checked_output_shape(
            self, self.get_output_shape_for(self.input_shape))

    def get_output_shape_for(self, input_shape):
        """Output shape for a given input shape; the identity by default."""
        return input_shape

    def get_output_for(self, input, **kwargs):
        """Symbolic output for a symbolic input; subclasses implement it."""
        raise NotImplementedError(
            "%s must implement get_output_for" % type(self).__name__)

    def get_outputs_for(self, input, **kwargs):
        """Named symbolic outputs, a dict with at least the key ``"out"``.

        :func:`get_outputs` prefixes each key with the layer's name.  The
        default is ``{"out": self.get_output_for(input, **kwargs)}``;
        layers with useful intermediate values (see :class:`DenseLayer`)
        add them here.
        """
        return OrderedDict(out=self.get_output_for(input, **kwargs))

    def add_param(self, spec, shape, name=None, **tags):
        """Create or register a parameter and tag it.

        Parameters
        ----------
        spec : numpy array, shared variable, expression or callable
            A numpy array becomes a new shared variable (a copy, of the
            array's dtype); a callable ``f(shape)`` returns such an array,
            cast to ``floatX``; a shared variable or symbolic expression is
            used as it is.
        shape : tuple of int
            The expected shape; every dimension must be positive.
        name : str, optional
            Registered as ``"<layer name>.<name>"`` if the layer is named.
        **tags : bool
            ``trainable`` and ``regularizable`` default to True; only the
            tags whose value is true are stored.

        Returns
        -------
        The parameter variable.

        Raises
        ------
        ValueError
            If the array, the shared value or the expression does not have
            `shape` (or its number of dimensions).

        Examples
        --------
        >>> layer = Layer((None, 3), name="hid")
        >>> W = layer.add_param(np.zeros((3, 2)), (3, 2), name="W")
        >>> layer.param_names[W], sorted(layer.params[W])
        ('hid.W', ['regularizable', 'trainable'])
        """
        owner = "%s.add_param" % type(self).__name__
        shape = _as_shape(shape, "shape", owner, allow_none=False)
        if name is not None and not isinstance(name, str):
            raise TypeError("%s: name must be a string, got %r"
                            % (owner, name))
        if name is not None and self.name is not None:
            name = "%s.%s" % (self.name, name)
        param = _create_param(spec, shape, name, owner)
        tags = dict({"trainable": True, "regularizable": True}, **tags)
        self.params[param] = {tag for tag, value in tags.items() if value}
        self.param_names[param] = name
        return param

    def get_params(self, unwrap_shared=True, **tags):
        """This layer's parameters, filtered by tags.

        Parameters
        ----------
        unwrap_shared : bool
            Replace a parameter that is a symbolic expression by the shared
            variables it is built from.
        **tags : bool
            ``tag=True`` keeps the parameters with that tag, ``tag=False``
            drops them; several tags must all hold.

        Returns
        -------
        list of variables, in registration order, each once.

        Notes
        -----
        This per-layer query does not check tag names: a custom tag may be
        carried by other layers of the network only.  The network-level
        functions (:func:`get_all_params`, :func:`named_params`, the
        ``regularize_*`` helpers, weight regularizers) raise ValueError for
        ``tag=True`` on a name that none of their parameters carries.

        Examples
        --------
        >>> layer = DenseLayer((None, 3), 2)
        >>> [p.name for p in layer.get_params(regularizable=True)]
        ['W']
        """
        return _unique(_unwrap(_filter_tags(self.params, tags), unwrap_shared))


class MergeLayer(Layer):
    """Base class of layers with several inputs.

    Parameters
    ----------
    incomings : sequence of Layer or tuple
        The layers (or input shapes) feeding this one, in order.
    name : str, optional

    Examples
    --------
    >>> class Add(MergeLayer):
    ...     def get_output_shape_for(self, input_shapes):
    ...         return input_shapes[0]
    ...     def get_output_for(self, inputs, **kwargs):
    ...         return inputs[0] + inputs[1]
    >>> Add([(None, 2), (None, 2)]).output_shape
    (None, 2)
    """

    def __init__(self, incomings, name=None):
        owner = type(self).__name__
        if isinstance(incomings, (Layer, str)) or not hasattr(
                incomings, "__iter__"):
            raise TypeError("%s: incomings must be a list of layers or shape "
                            "tuples, got %r" % (owner, incomings))
        incomings = list(incomings)
        if not incomings:
            raise ValueError("%s: incomings must not be empty" % owner)
        self.input_layers = []
        self.input_shapes = []
        for incoming in incomings:
            if isinstance(incoming, Layer):
                self.input_layers.append(incoming)
                self.input_shapes.append(incoming.output_shape)
            elif isinstance(incoming, (tuple, list)):
                self.input_layers.append(None)
                self.input_shapes.append(
                    _as_shape(incoming, "incomings", owner))
            else:
                raise TypeError("%s: every item of incomings must be a Layer "
                                "or a shape tuple, got %r" % (owner, incoming))
        self.name = _check_name(name, owner)
        self.params = OrderedDict()
        self.param_names = OrderedDict()

    @property
    def output_shape(self):
        return _checked_output_shape(
            self, self.get_output_shape_for(self.input_shapes))

    def get_output_shape_for(self, input_shapes):
        """Output shape for a list of input shapes; subclasses implement it."""
        raise NotImplementedError(
            "%s must implement get_output_shape_for" % type(self).__name__)

    def get_output_for(self, inputs, **kwargs):
        """Symbolic output for a list of inputs; subclasses implement it."""
        raise NotImplementedError(
            "%s must implement get_output_for" % type(self).__name__)


class InputLayer(Layer):
    """The entry point of a network: holds the symbolic input variable.

    Parameters
    ----------
    shape : tuple
        Shape of the input, ``None`` for dimensions known only at run time
        (usually the batch size).
    input_var : symbolic tensor, optional
        Defaults to a new tensor variable of dtype ``floatX`` with
        ``len(shape)`` dimensions, broadcastable where `shape` has a 1 (as
        in Lasagne), and named ``"<name>.input"`` (``"input"`` when the
        layer has no name).
    name : str, optional

    Examples
    --------
    >>> l_in = InputLayer((None, 4), name="x")
    >>> l_in.input_var.ndim, l_in.input_var.name, l_in.output_shape
    (2, 'x.input', (None, 4))
    >>> InputLayer((1, 4)).input_var.broadcastable
    (True, False)
    """

    def __init__(self, shape, input_var=None, name=None):
        self.shape = _as_shape(shape, "shape", "InputLayer")
        self.name = _check_name(name, "InputLayer")
        if input_var is None:
            input_var = backend.tensor_variable(
                backend.floatX, [dim == 1 for dim in self.shape],
                "input" if self.name is None else "%s.input" % self.name)
        elif not backend.is_tensor(input_var):
            raise TypeError("InputLayer: input_var must be a symbolic tensor, "
                            "got %r" % (input_var,))
        else:
            _check_shape(input_var, self.shape, "InputLayer", "input_var")
        self.input_var = input_var
        self.input_layer = None
        self.input_shape = self.shape
        self.params = OrderedDict()
        self.param_names = OrderedDict()

    @property
    def output_shape(self):
        return self.shape


class DenseLayer(Layer):
    """Fully connected layer: ``nonlinearity(dot(input, W) + b)``.

    The dot product is taken over the trailing axes of the input, those
    after the first `num_leading_axes`; inputs with more trailing axes are
    flattened behind the leading ones first.

    Parameters
    ----------
    incoming : Layer or tuple
    num_units : int
        Number of output units (positive).
    W : array, shared variable, expression or callable
        Weights of shape ``(num_inputs, num_units)``; Glorot uniform by
        default.  Tagged ``trainable`` and ``regularizable``.
    b : array, shared variable, expression, callable or None
        Biases of shape ``(num_units,)``, zeros by default; tagged
        ``trainable`` only.  ``None`` means no bias.
    nonlinearity : callable or None
        Applied to the activation; ``None`` means the identity.  Default
        :func:`~regkit.nonlinearities.rectify`.
    num_leading_axes : int
        How many leading axes are kept (1: the batch axis); a negative
        value counts from the end (-1: a dot product over the last axis
        only).  As in Lasagne, there must be at least one trailing axis,
        and the trailing sizes must be known.
    name : str, optional

    Examples
    --------
    >>> l_in = InputLayer((None, 3))
    >>> l_hid = DenseLayer(l_in, num_units=2, name="hid")
    >>> l_hid.output_shape, [l_hid.param_names[p] for p in l_hid.params]
    ((None, 2), ['hid.W', 'hid.b'])
    >>> DenseLayer(InputLayer((None, 7, 3)), 2,
    ...            num_leading_axes=-1).output_shape
    (None, 7, 2)
    """

    def __init__(self, incoming, num_units, W=GlorotUniform(),
                 b=Constant(0.0), nonlinearity=nonlinearities.rectify,
                 num_leading_axes=1, name=None):
        super(DenseLayer, self).__init__(incoming, name)
        if not _is_int(num_units):
            raise TypeError("DenseLayer: num_units must be an int, got %r"
                            % (num_units,))
        if num_units <= 0:
            raise ValueError("DenseLayer: num_units must be positive, got %r"
                             % (num_units,))
        if nonlinearity is not None and not callable(nonlinearity):
            raise TypeError("DenseLayer: nonlinearity must be callable or "
                            "None, got %r" % (nonlinearity,))
        self.num_leading_axes = _check_leading_axes(num_leading_axes,
                                                    self.input_shape)
        self.num_units = int(num_units)
        self.nonlinearity = nonlinearity or nonlinearities.identity
        num_inputs = int(np.prod(self.input_shape[self.num_leading_axes:]))
        self.W = self.add_param(W, (num_inputs, self.num_units), name="W")
        if b is None:
            self.b = None
        else:
            self.b = self.add_param(b, (self.num_units,), name="b",
                                    regularizable=False)

    def get_output_shape_for(self, input_shape):
        return tuple(input_shape[:self.num_leading_axes]) + (self.num_units,)

    def get_outputs_for(self, input, **kwargs):
        leading = self.num_leading_axes
        if leading < 0:
            leading += input.ndim
        if input.ndim > leading + 1:
            input = T.flatten(input, leading + 1)
        activation = T.dot(input, self.W)
        if self.b is not None:
            activation = activation + self.b
        return OrderedDict([("pre", activation),
                            ("out", self.nonlinearity(activation))])

    def get_output_for(self, input, **kwargs):
        return self.get_outputs_for(input, **kwargs)["out"]


def _check_leading_axes(num_leading_axes, input_shape):
    """`num_leading_axes` of a DenseLayer, checked against its input
    shape; returned as given (negative values count from the end)."""
    if not _is_int(num_leading_axes):
        raise TypeError("DenseLayer: num_leading_axes must be an int, got %r"
                        % (num_leading_axes,))
    leading, ndim = int(num_leading_axes), len(input_shape)
    if leading >= ndim:
        raise ValueError(
            "DenseLayer: num_leading_axes=%d for a %d-dimensional input %r "
            "leaves no trailing axes for the dot product"
            % (leading, ndim, tuple(input_shape)))
    if leading < -ndim:
        raise ValueError(
            "DenseLayer: num_leading_axes=%d for a %d-dimensional input %r "
            "asks for more trailing axes than the input has"
            % (leading, ndim, tuple(input_shape)))
    if None in input_shape[leading:]:
        raise ValueError(
            "DenseLayer: the input shape must be known along the trailing "
            "axes (after the first num_leading_axes=%d), got %r"
            % (leading, tuple(input_shape)))
    return leading


class ElemwiseSumLayer(MergeLayer):
    """Elementwise weighted sum of its inputs: ``sum_i coeffs[i] * x_i``.

    Parameters
    ----------
    incomings : sequence of Layer or tuple
        Inputs of matching shapes.
    coeffs : float or sequence of float
        One coefficient for all inputs, or one per input.
    name : str, optional

    Examples
    --------
    >>> a, b = InputLayer((None, 2)), InputLayer((None, 2))
    >>> ElemwiseSumLayer([a, b], coeffs=[1, -1]).output_shape
    (None, 2)
    """

    def __init__(self, incomings, coeffs=1, name=None):
        super(ElemwiseSumLayer, self).__init__(incomings, name)
        n = len(self.input_shapes)
        if isinstance(coeffs, (numbers.Number, np.number)):
            coeffs = [coeffs] * n
        elif not isinstance(coeffs, (list, tuple, np.ndarray)):
            raise TypeError("ElemwiseSumLayer: coeffs must be a number or a "
                            "sequence of numbers, got %r" % (coeffs,))
        coeffs = list(coeffs)
        if len(coeffs) != n:
            raise ValueError("ElemwiseSumLayer: coeffs has %d values for %d "
                             "incomings" % (len(coeffs), n))
        for c in coeffs:
            if isinstance(c, bool) or not isinstance(
                    c, (numbers.Number, np.number)):
                raise TypeError("ElemwiseSumLayer: coeffs must be numbers, "
                                "got %r" % (c,))
        self.coeffs = coeffs
        self.get_output_shape_for(self.input_shapes)  # validate shapes

    def get_output_shape_for(self, input_shapes):
        if len(set(len(s) for s in input_shapes)) != 1:
            raise ValueError("ElemwiseSumLayer: inputs have different numbers "
                             "of dimensions: %r" % (input_shapes,))
        shape = []
        for dims in zip(*input_shapes):
            known = set(d for d in dims if d is not None)
            if len(known) > 1:
                raise ValueError("ElemwiseSumLayer: input shapes do not "
                                 "match: %r" % (input_shapes,))
            shape.append(known.pop() if known else None)
        return tuple(shape)

    def get_output_for(self, inputs, **kwargs):
        total = None
        for coeff, x in zip(self.coeffs, inputs):
            if coeff != 1:
                x = x * np.asarray(coeff, dtype=x.dtype)
            total = x if total is None else total + x
        return total


def _check_name(name, owner):
    if name is not None and not isinstance(name, str):
        raise TypeError("%s: name must be a string or None, got %r"
                        % (owner, name))
    return name


def _create_param(spec, shape, name, owner):
    if isinstance(spec, backend.SharedVariable):
        _check_shape(spec, shape, owner, "shared variable %s" % spec)
        value_shape = tuple(spec.get_value(borrow=True).shape)
        if value_shape != shape:
            raise ValueError("%s: shared variable %s has shape %r, expected "
                             "%r" % (owner, spec, value_shape, shape))
        return spec
    if backend.is_tensor(spec):
        _check_shape(spec, shape, owner, "expression %s" % spec)
        return spec
    if isinstance(spec, np.ndarray):
        array = spec
    elif callable(spec):
        array = np.asarray(spec(shape), dtype=backend.floatX)
    else:
        raise TypeError("%s: spec for %r must be a numpy array, a shared "
                        "variable, a symbolic expression or a callable, got "
                        "%r" % (owner, name, spec))
    if array.dtype.kind not in "biuf":
        raise TypeError("%s: spec for %r has dtype %s, expected a number "
                        "dtype" % (owner, name, array.dtype))
    if array.shape != shape:
        raise ValueError("%s: spec for %r has shape %r, expected %r"
                         % (owner, name, array.shape, shape))
    return backend.shared(array.copy(), name=name)


def _check_shape(var, shape, owner, what):
    """ValueError unless the tensor `var` has ``len(shape)`` dimensions and
    each size known before run time agrees with `shape` (None: any size).
    `what` names `var` in the message."""
    if var.ndim != len(shape):
        raise ValueError("%s: %s has %d dimensions, expected %d (shape %r)"
                         % (owner, what, var.ndim, len(shape), shape))
    known = backend.static_shape(var)
    if any(size is not None and wanted is not None and size != wanted
           for size, wanted in zip(known, shape)):
        raise ValueError("%s: %s has shape %r, expected %r (None: any size)"
                         % (owner, what, known, shape))


#: The tags :meth:`Layer.add_param` gives every parameter unless told not to.
STANDARD_TAGS = ("trainable", "regularizable")


def _check_tag_names(layers, tags, caller):
    """Reject ``tag=True`` on a name no parameter of `layers` carries.

    Such a filter selects nothing, so a misspelt tag
    (``regularisable=True``) would give an empty list and a zero penalty
    without a word.  The standard tags are always accepted (a network may
    have no trainable parameters left), and so is ``tag=False`` on any
    name: it excludes nothing, which generic code relies on
    (``frozen=False`` in a script that only some networks freeze).
    """
    unknown = [tag for tag, value in tags.items()
               if value and tag not in STANDARD_TAGS]
    if not unknown:
        return  # the common case: nothing to look up
    carried = _tags_in_use(layers)
    unknown = [tag for tag in unknown if tag not in carried]
    if unknown:
        raise ValueError("%s: no parameter of the given layers carries the "
                         "tag %r, so %s=True would select nothing (tags in "
                         "use: %s)" % (caller, unknown[0], unknown[0],
                                       ", ".join(sorted(carried))))


def _tags_in_use(layers):
    """The standard tags and every tag a parameter of `layers` carries."""
    carried = set(STANDARD_TAGS)
    for layer in layers:
        for have in layer.params.values():
            carried.update(have)
    return carried


def _filter_tags(params, tags):
    """The parameters of the mapping `params` whose tag sets satisfy
    `tags` (tag=True: must have it, tag=False: must not)."""
    wanted = set(tag for tag, value in tags.items() if value)
    unwanted = set(tag for tag, value in tags.items() if not value)
    return [param for param, have in params.items()
            if wanted <= have and not (unwanted & have)]


def _unwrap(params, unwrap_shared):
    if not unwrap_shared:
        return params
    out = []
    for param in params:
        if isinstance(param, backend.SharedVariable):
            out.append(param)
        else:
            out.extend(var for var in backend.graph_inputs([param])
                       if isinstance(var, backend.SharedVariable))
    return out


def _unique(items):
    seen = set()
    out = []
    for item in items:
        if item not in seen:
            seen.add(item)
            out.append(item)
    return out


# ------------------------------------------------------------ graph walk --

def _as_layer_list(layer_or_layers, caller, argname="layer"):
    if isinstance(layer_or_layers, Layer):
        return [layer_or_layers]
    if isinstance(layer_or_layers, np.ndarray) \
            or backend.is_tensor(layer_or_layers) \
            or not _is_collection(layer_or_layers):
        raise TypeError("%s: %s must be a Layer or a list of layers, got %r"
                        % (caller, argname, layer_or_layers))
    layers = list(layer_or_layers)
    for item in layers:
        if not isinstance(item, Layer):
            raise TypeError("%s: %s must contain only layers, got %r"
                            % (caller, argname, item))
    return layers


def get_all_layers(layer, treat_as_input=None):
    """Every layer below `layer` (a layer or a list), each after its inputs.

    The order is Lasagne's: a depth-first walk that takes the queried layers
    in the order given and the inputs of a merge layer in their order, and
    emits a layer once all its inputs have been emitted.  It runs on an
    explicit stack (no recursion limit), in time linear in the size of the
    graph, and stops on cycles: a layer met again while its inputs are
    still being walked is emitted at that point.

    Parameters
    ----------
    layer : Layer or list of Layer
    treat_as_input : iterable of Layer, optional
        Layers whose inputs are not walked (they are still returned).

    Returns
    -------
    list of Layer

    Examples
    --------
    >>> l_in = InputLayer((None, 3), name="in")
    >>> l_hid = DenseLayer(l_in, 4, name="hid")
    >>> l_out = DenseLayer(l_hid, 2, name="out")
    >>> [l.name for l in get_all_layers(l_out)]
    ['in', 'hid', 'out']
    >>> [l.name for l in get_all_layers(l_out, treat_as_input=[l_hid])]
    ['hid', 'out']
    """
    queried = _as_layer_list(layer, "get_all_layers")
    expanded = set()  # layers whose inputs have been pushed
    if treat_as_input is not None:
        expanded.update(_as_layer_list(treat_as_input, "get_all_layers",
                                       "treat_as_input"))
    emitted = set()
    result = []
    stack = queried[::-1]  # the next layer to look at is stack[-1]
    while stack:
        current = stack[-1]
        if current is None:  # an input given only by its shape
            stack.pop()
        elif current not in expanded:
            expanded.add(current)
            stack.extend(reversed(_input_layers(current)))
        else:
            stack.pop()
            if current not in emitted:
                emitted.add(current)
                result.append(current)
    return result


def get_all_params(layer, unwrap_shared=True, **tags):
    """The parameters of every layer below `layer`, each once.

    Parameters
    ----------
    layer : Layer or list of Layer
    unwrap_shared : bool
        See :meth:`Layer.get_params`.
    **tags : bool
        Tag filter, see :meth:`Layer.get_params`.

    Returns
    -------
    list of variables, in the order of :func:`get_all_layers` and then of
    registration.

    Raises
    ------
    ValueError
        For ``tag=True`` on a tag name that no parameter below `layer`
        carries, other than the standard ``trainable`` and
        ``regularizable``: such a filter would select nothing, which is
        almost always a misspelt tag.  ``tag=False`` is accepted for any
        name (it excludes nothing).  The same check guards
        :func:`count_params`, :func:`get_all_param_values`,
        :func:`set_all_param_values` and :func:`named_params`.

    Examples
    --------
    >>> l_in = InputLayer((None, 3))
    >>> l_out = DenseLayer(DenseLayer(l_in, 4, name="hid"), 2, name="out")
    >>> [p.name for p in get_all_params(l_out, regularizable=True)]
    ['hid.W', 'out.W']
    """
    return _all_params(layer, unwrap_shared, tags, "get_all_params")


def _all_params(layer_or_layers, unwrap_shared, tags, caller):
    """:func:`get_all_params` on behalf of `caller` (named in errors)."""
    all_layers = get_all_layers(layer_or_layers)
    _check_tag_names(all_layers, tags, caller)
    params = []
    for each in all_layers:
        params.extend(each.get_params(unwrap_shared=unwrap_shared, **tags))
    return _unique(params)


def count_params(layer, **tags):
    """The number of scalar values in the parameters below `layer`.

    Examples
    --------
    >>> l_out = DenseLayer(InputLayer((None, 3)), 2)
    >>> count_params(l_out), count_params(l_out, regularizable=True)
    (8, 6)
    """
    return sum(int(np.prod(p.get_value(borrow=True).shape))
               for p in _all_params(layer, True, tags, "count_params"))


def get_all_param_values(layer, **tags):
    """The values (numpy arrays) of the parameters below `layer`.

    Examples
    --------
    >>> l_out = DenseLayer(InputLayer((None, 3)), 2)
    >>> [v.shape for v in get_all_param_values(l_out)]
    [(3, 2), (2,)]
    """
    return [p.get_value()
            for p in _all_params(layer, True, tags, "get_all_param_values")]


def set_all_param_values(layer, values, **tags):
    """Set the parameters below `layer` from a list of arrays.

    Every value is checked before any parameter is changed: on a count or
    shape mismatch nothing is set.  Values are cast to each parameter's
    dtype.

    Raises
    ------
    ValueError
        If the number of values or any shape does not match.

    Examples
    --------
    >>> l_out = DenseLayer(InputLayer((None, 3)), 2)
    >>> set_all_param_values(l_out, [np.ones((3, 2)), np.zeros(2)])
    >>> float(l_out.W.get_value().sum())
    6.0
    """
    params = _all_params(layer, True, tags, "set_all_param_values")
    if not _is_collection(values) or not hasattr(values, "__len__"):
        raise TypeError("set_all_param_values: values must be a list of "
                        "arrays, got %r" % (values,))
    if len(values) != len(params):
        raise ValueError("set_all_param_values: got %d values for %d "
                         "parameters" % (len(values), len(params)))
    arrays = []
    for param, value in zip(params, values):
        array = np.asarray(value)
        shape = param.get_value(borrow=True).shape
        if array.shape != shape:
            raise ValueError("set_all_param_values: value for %s has shape "
                             "%r, expected %r" % (param, array.shape, shape))
        arrays.append(array.astype(param.dtype))
    for param, array in zip(params, arrays):
        param.set_value(array)


# ---------------------------------------------------------------- output --

def layer_names(layers):
    """The name of each layer: its own, or a stable automatic one.

    Parameters
    ----------
    layers : list of Layer
        Usually ``get_all_layers(network)``.

    Returns
    -------
    OrderedDict
        Layer -> name.  An unnamed layer is called after its class
        (lowercased, without ``Layer``) and a 1-based count of the layers
        of that class in `layers`, skipping names already taken.

    Raises
    ------
    ValueError
        If two layers have the same name.

    Examples
    --------
    >>> l_in = InputLayer((None, 3))
    >>> l_out = DenseLayer(DenseLayer(l_in, 4), 2, name="out")
    >>> list(layer_names(get_all_layers(l_out)).values())
    ['input1', 'dense1', 'out']
    """
    layers = _as_layer_list(layers, "layer_names", "layers")
    taken = {}
    for layer in layers:
        if layer.name is None:
            continue
        if layer.name in taken and taken[layer.name] is not layer:
            raise ValueError("layer_names: two layers are named %r: %r and %r"
                             % (layer.name, taken[layer.name], layer))
        taken[layer.name] = layer
    counts = {}
    names = OrderedDict()
    for layer in layers:
        if layer.name is not None:
            names[layer] = layer.name
            continue
        base = type(layer).__name__.lower()
        if base.endswith("layer") and len(base) > len("layer"):
            base = base[:-len("layer")]
        while True:
            counts[base] = counts.get(base, 0) + 1
            name = "%s%d" % (base, counts[base])
            if name not in taken:
                break
        taken[name] = layer
        names[layer] = name
    return names


#: The roles :func:`layer_roles` gives layers.
_ROLES = ("input", "hidden", "output")


def layer_roles(layer_or_layers):
    """The role of every layer below the given layer(s).

    Parameters
    ----------
    layer_or_layers : Layer or list of Layer
        The network's output layer(s), or all its layers (as theanets
        passes them to ``Regularizer.loss``): the roles come from the
        graph, so both give the same answer.

    Returns
    -------
    OrderedDict
        Layer -> ``"input"`` (an :class:`InputLayer`), ``"output"`` (a layer
        that no other layer of the walked graph takes as input) or
        ``"hidden"`` (everything else), in the order of
        :func:`get_all_layers`.

    Examples
    --------
    >>> l_in = InputLayer((None, 3))
    >>> l_hid = DenseLayer(l_in, 4)
    >>> l_out = DenseLayer(l_hid, 2)
    >>> list(layer_roles(l_out).values())
    ['input', 'hidden', 'output']
    >>> list(layer_roles([l_in, l_hid, l_out]).values())
    ['input', 'hidden', 'output']
    """
    queried = _as_layer_list(layer_or_layers, "layer_roles")
    return _network_layers(queried)[1]


def _input_layers(layer):
    """The layers `layer` reads (None for an input given by its shape)."""
    inputs = getattr(layer, "input_layers", None)
    if inputs is None:
        inputs = [getattr(layer, "input_layer", None)]
    return inputs


def _network_layers(queried, treat_as_input=None):
    """(layers, roles) of the network below `queried`, walked from its
    output layers: the same list (so the same automatic names) whether
    `queried` holds the output layers or every layer of the model in any
    order; roles maps each layer to its role, in the order of the list."""
    walked = get_all_layers(queried, treat_as_input)
    roles = _roles(walked)
    outputs = [layer for layer in walked if roles[layer] == "output"]
    if outputs == list(queried):
        return walked, roles
    rewalked = get_all_layers(outputs, treat_as_input) if outputs else []
    if set(rewalked) != set(walked):
        # a cycle can hide layers from every output layer: keep the first walk
        return walked, roles
    return rewalked, OrderedDict((layer, roles[layer]) for layer in rewalked)


def _roles(all_layers):
    """Layer -> role for the layers of one walked graph (see
    :func:`layer_roles`)."""
    consumed = set()
    for layer in all_layers:
        if not isinstance(layer, InputLayer):
            consumed.update(_input_layers(layer))
    roles = OrderedDict()
    for layer in all_layers:
        if isinstance(layer, InputLayer):
            roles[layer] = "input"
        else:
            roles[layer] = "hidden" if layer in consumed else "output"
    return roles


def named_params(layer_or_layers, unwrap_shared=True, **tags):
    """The parameters below the given layer(s) with their full names.

    Parameters
    ----------
    layer_or_layers : Layer or list of Layer
    unwrap_shared : bool
        Replace an expression parameter by the shared variables inside it
        (each carries the expression's name).
    **tags : bool
        Tag filter, see :meth:`Layer.get_params`.

    Returns
    -------
    list of (name, parameter)
        In the order of :func:`get_all_params`, each parameter once (under
        the first name it was met with).  The name is
        ``"<layer name>.<param name>"``, with the automatic name of an
        unnamed layer (:func:`layer_names`); a parameter registered without
        a name is called by its position in its layer (``"dense1.0"``).

    Examples
    --------
    >>> l_out = DenseLayer(InputLayer((None, 3)), 2)
    >>> [name for name, _ in named_params(l_out)]
    ['dense1.W', 'dense1.b']
    """
    return _named_params(layer_or_layers, unwrap_shared, tags,
                         "named_params")


def _named_params(layer_or_layers, unwrap_shared, tags, caller):
    """:func:`named_params` on behalf of `caller` (named in errors)."""
    all_layers = _network_layers(_as_layer_list(layer_or_layers, caller))[0]
    _check_tag_names(all_layers, tags, caller)
    names = layer_names(all_layers)
    result, seen = [], set()
    for layer in all_layers:
        kept = set(_filter_tags(layer.params, tags))
        for index, param in enumerate(layer.params):
            if param not in kept:
                continue
            short = layer.param_names.get(param)
            if short is None:
                short = str(index)
            elif layer.name is not None:
                short = short[len(layer.name) + 1:]
            name = "%s.%s" % (names[layer], short)
            for var in _unwrap([param], unwrap_shared):
                if var not in seen:
                    seen.add(var)
                    result.append((name, var))
    return result


class LayerOutputs(OrderedDict):
    """The named outputs of one layer, as regularizers see them.

    A dict ``"<layer name>:<output>" -> expression`` that also tells which
    layer it belongs to: attributes ``layer``, ``name`` (the layer's name)
    and ``role`` (``"input"``, ``"hidden"`` or ``"output"``, see
    :func:`layer_roles`).  A regularizer's ``modify_graph`` may replace
    values and add keys.

    Examples
    --------
    >>> outs = LayerOutputs(None, "hid", "hidden", [("hid:out", 1)])
    >>> outs.name, outs.role, dict(outs)
    ('hid', 'hidden', {'hid:out': 1})
    """

    def __init__(self, layer, name, role, items=()):
        if not isinstance(name, str):
            raise TypeError("LayerOutputs: name must be a string, got %r"
                            % (name,))
        if role not in _ROLES:
            raise ValueError("LayerOutputs: role must be one of %s, got %r"
                             % (", ".join(_ROLES), role))
        super(LayerOutputs, self).__init__(items)
        self.layer, self.name, self.role = layer, name, role

    def __reduce__(self):
        return (type(self), (self.layer, self.name, self.role,
                             list(self.items())))


def _input_map(queried, inputs, caller):
    """Layer -> given symbolic input, from the `inputs` argument."""
    if inputs is None:
        return {}
    if isinstance(inputs, dict):
        given = {}
        for key, expr in inputs.items():
            if not isinstance(key, Layer):
                raise TypeError("%s: the keys of inputs must be layers, got "
                                "%r" % (caller, key))
            given[key] = _as_input_expr(expr, key, caller)
        return given
    input_layers = [layer for layer in get_all_layers(queried)
                    if isinstance(layer, InputLayer)]
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


def _as_regularizer_list(regularizers, caller, cls=None):
    """`regularizers` (one or an iterable) as a list, or a TypeError.

    Each item must be an instance of `cls` when it is given (the
    regularizers module passes its base class), else any object with a
    ``modify_graph`` method (this module cannot import that class).
    """
    def is_one(value):
        if cls is not None:
            return isinstance(value, cls)
        return callable(getattr(value, "modify_graph", None))

    if is_one(regularizers):
        return [regularizers]
    if not _is_collection(regularizers):
        raise TypeError("%s: regularizers must be a list of Regularizer "
                        "objects, got %r" % (caller, regularizers))
    regularizers = list(regularizers)
    for reg in regularizers:
        if not is_one(reg):
            raise TypeError("%s: regularizers must %s, got %r" % (
                caller, "have a modify_graph method" if cls is None
                else "be Regularizer objects", reg))
    return regularizers


def _build_outputs(layer_or_layers, inputs, regularizers, deterministic,
                   kwargs, caller):
    """Walk the graph once; return (queried layers, layer -> output,
    name -> output for every named output)."""
    queried = _as_layer_list(layer_or_layers, caller, "layer_or_layers")
    regularizers = _as_regularizer_list(regularizers, caller)
    if deterministic:
        regularizers = [r for r in regularizers
                        if not getattr(r, "stochastic", False)]
    given = _input_map(queried, inputs, caller)
    all_layers, roles = _network_layers(queried, treat_as_input=list(given))
    names = layer_names(all_layers)
    kwargs = dict(kwargs, deterministic=deterministic)
    layer_out = {}
    named = OrderedDict()
    for layer in all_layers:
        if layer in given:
            outs = OrderedDict(out=given[layer])
        elif isinstance(layer, InputLayer):
            outs = OrderedDict(out=layer.input_var)
        else:
            if isinstance(layer, MergeLayer):
                sources = layer.input_layers
            else:
                sources = [layer.input_layer]
            missing = [s for s in sources if s is None]
            if missing:
                raise ValueError(
                    "%s: %r was built from a shape, not a layer; pass its "
                    "input in inputs={layer: expression}" % (caller, layer))
            values = [layer_out[s] for s in sources]
            arg = values if isinstance(layer, MergeLayer) else values[0]
            outs = layer.get_outputs_for(arg, **kwargs)
            if "out" not in outs:
                raise ValueError("%s: %s.get_outputs_for must return a dict "
                                 "with the key 'out', got keys %r"
                                 % (caller, type(layer).__name__, list(outs)))
        prefix = names[layer]
        outs = LayerOutputs(layer, prefix, roles[layer],
                            (("%s:%s" % (prefix, key), value)
                             for key, value in outs.items()))
        for reg in regularizers:
            reg.modify_graph(outs)
        layer_out[layer] = outs["%s:out" % prefix]
        named.update(outs)
    for reg in regularizers:
        check = getattr(reg, "check_matches", None)
        if callable(check):
            check(named)
    return queried, layer_out, named


def get_output(layer_or_layers, inputs=None, regularizers=(),
               deterministic=False, **kwargs):
    """The symbolic output of one layer or of several.

    Parameters
    ----------
    layer_or_layers : Layer or list of Layer
    inputs : None, expression or dict
        ``None``: every :class:`InputLayer` uses its ``input_var``.  One
        expression: the input of the network's only input layer.  A dict
        ``{layer: expression}``: use the expression as that layer's output
        (the layers below it are not walked).
    regularizers : list of Regularizer
        Their ``modify_graph`` hook runs on each layer's named outputs
        before later layers read them (dropout, noise).
    deterministic : bool
        True builds the inference graph: stochastic regularizers leave the
        graph unchanged.  Also passed on to every layer's
        ``get_output_for``.
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
    >>> l_in = InputLayer((None, 3))
    >>> l_out = DenseLayer(l_in, 2, W=np.ones((3, 2)), nonlinearity=None)
    >>> get_output(l_out).eval({l_in.input_var: np.ones((1, 3))})
    array([[3., 3.]])
    """
    queried, layer_out, _ = _build_outputs(
        layer_or_layers, inputs, regularizers, deterministic, kwargs,
        "get_output")
    outputs = [layer_out[layer] for layer in queried]
    return outputs[0] if isinstance(layer_or_layers, Layer) else outputs


def get_outputs(layer_or_layers, inputs=None, regularizers=(),
                deterministic=False, **kwargs):
    """Every named output of the network, after the regularizers ran.

    Takes the same arguments as :func:`get_output`.  Keys are
    ``"<layer name>:out"`` for every layer below `layer_or_layers` and
    ``"<layer name>:pre"`` for dense layers, with automatic names for
    unnamed layers (see :func:`layer_names`); regularizers may add keys
    such as ``"hid:out-predrop"``.

    Returns
    -------
    OrderedDict
        Name -> symbolic expression, in the order of :func:`get_all_layers`.

    Examples
    --------
    >>> l_in = InputLayer((None, 3), name="in")
    >>> l_out = DenseLayer(l_in, 2, name="out")
    >>> list(get_outputs(l_out))
    ['in:out', 'out:pre', 'out:out']
    """
    return _build_outputs(layer_or_layers, inputs, regularizers,
                          deterministic, kwargs, "get_outputs")[2]
