"""Shared helpers for the regkit test suite (run once per backend)."""
import numpy as np
import pytest

from regkit import backend


def evaluate(expr, givens=None):
    """Compile and evaluate `expr`, feeding `givens` {variable: value}."""
    givens = givens or {}
    inputs = list(givens)
    fn = backend.function(inputs, expr, on_unused_input="ignore")
    return fn(*[givens[v] for v in inputs])


@pytest.fixture
def rng():
    return np.random.default_rng(20261121)


class InputReads(object):
    """Counts the reads of ``input_layer`` / ``input_layers`` on the given
    layers (the one way a walk learns a layer's inputs, for regkit's
    layers and Lasagne's alike): a context manager that gives each layer
    a counting subclass of its own class (same name, so automatic names
    do not change) and puts the class back on exit."""

    def __init__(self, layers):
        self.layers = list(layers)
        self.count = 0

    def __enter__(self):
        counter = self
        self._classes = {}
        for layer in self.layers:
            cls = type(layer)

            def __getattribute__(obj, name, _cls=cls):
                if name in ("input_layer", "input_layers"):
                    counter.count += 1
                return _cls.__getattribute__(obj, name)

            self._classes[layer] = cls
            layer.__class__ = type(cls.__name__, (cls,),
                                   {"__getattribute__": __getattribute__,
                                    "__module__": cls.__module__})
        return self

    def __exit__(self, *exc):
        for layer, cls in self._classes.items():
            layer.__class__ = cls
        return False


class RecordBuilds(object):
    """Counts the network records regkit builds (each one a walk of the
    network) while it is active: a context manager around the public
    :class:`regkit.layers.Network` constructor."""

    def __init__(self, monkeypatch):
        from regkit.layers import Network
        self.count = 0
        original = Network.__init__
        counter = self

        def counting_init(record, *args, **kwargs):
            counter.count += 1
            original(record, *args, **kwargs)
        self._patch = (monkeypatch, Network, counting_init)

    def __enter__(self):
        monkeypatch, cls, init = self._patch
        monkeypatch.setattr(cls, "__init__", init)
        return self

    def __exit__(self, *exc):
        monkeypatch, cls, _ = self._patch
        monkeypatch.undo()
        return False
