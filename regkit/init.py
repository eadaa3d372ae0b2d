"""Parameter initialisers and the generator they draw from.

Parameters created from a callable spec (``W=GlorotUniform()``) draw from
the generator returned by :func:`get_rng`, a numpy Generator with a fixed
seed until :func:`set_rng` replaces it, so a script builds the same network
every time it runs.

A stochastic regularizer built without a seed (``rng=None``) takes the
next child of regkit's root ``numpy.random.SeedSequence``
(:func:`spawn_seed_sequence`), whose seed is fixed until ``set_rng`` is
called with an int: regularizers built in the same order get the same
streams in every process, and no two of them share one.

Examples
--------
>>> import regkit
>>> regkit.set_rng(0)
>>> regkit.GlorotUniform()((3, 2)).shape
(3, 2)
"""
import numpy as np

from ._checks import as_real, check_positive, describe, is_int, short_repr

__all__ = ["GlorotUniform", "Constant", "get_rng", "set_rng",
           "spawn_seed_sequence", "DEFAULT_SEED", "seed_sequence"]

DEFAULT_SEED = 1234
_rng = np.random.default_rng(DEFAULT_SEED)
_root_seed_sequence = np.random.SeedSequence(DEFAULT_SEED)


def get_rng():
    """The numpy generator that parameter initialisers draw from.

    Examples
    --------
    >>> import numpy as np
    >>> from regkit import get_rng
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
    >>> from regkit import GlorotUniform, set_rng
    >>> set_rng(42)
    >>> a = GlorotUniform()((2, 3))
    >>> set_rng(42)
    >>> bool((GlorotUniform()((2, 3)) == a).all())
    True
    """
    global _rng, _root_seed_sequence
    _rng = _as_generator(rng, "set_rng")
    if is_int(rng):
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
    >>> from regkit import set_rng, spawn_seed_sequence
    >>> set_rng(7)
    >>> a, b = spawn_seed_sequence(), spawn_seed_sequence()
    >>> a.spawn_key, b.spawn_key
    ((0,), (1,))
    """
    return _root_seed_sequence.spawn(1)[0]


def _as_generator(rng, caller):
    """`rng` (an int seed, a numpy Generator or a RandomState) as a
    generator, or a TypeError."""
    if is_int(rng):
        if rng < 0:
            raise ValueError("%s: an int seed must be non-negative, got %d"
                             % (caller, rng))
        rng = np.random.default_rng(int(rng))
    if not isinstance(rng, (np.random.Generator, np.random.RandomState)):
        raise TypeError("%s: rng must be an int seed, a numpy Generator or a "
                        "RandomState, got %s" % (caller, describe(rng)))
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
    >>> import numpy as np
    >>> from regkit import GlorotUniform
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
                             "dimensions, got %s" % short_repr(shape))
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
    >>> from regkit import Constant
    >>> Constant(0.5)((2,))
    array([0.5, 0.5])
    """

    def __init__(self, value=0.0):
        self.value = as_real(value, "Constant", "value")
        if not np.isfinite(self.value):
            raise ValueError("Constant: value must be finite, got %r"
                             % (self.value,))

    def __call__(self, shape):
        return np.full(shape, self.value, dtype=float)


def seed_sequence(seed):
    """The SeedSequence a stochastic regularizer or mask spawns its draws
    from: ``SeedSequence(seed)``, or for None the next child of regkit's
    root (see :func:`regkit.set_rng`).

    Examples
    --------
    >>> from regkit.init import seed_sequence
    >>> seed_sequence(3).entropy
    3
    """
    return spawn_seed_sequence() if seed is None \
        else np.random.SeedSequence(seed)
