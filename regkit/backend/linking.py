"""How regkit's Ops reach PyTensor's linkers: kernels registered lazily,
and the one patch of a linker.

A function decorated with :func:`linker_kernels` registers an Op's kernel
for a linker the first time a regkit Op enters a graph (or is unpickled),
so that ``import regkit`` imports no Numba; with ``linker=...`` only when
that linker (JAX, PyTorch) first links a graph.  :func:`before_linking`
runs a function before each graph a linker links, by wrapping the
linker's ``fgraph_convert`` (PyTensor has no documented hook for it): the
only place regkit changes a PyTensor class.

Examples
--------
>>> from regkit import backend
>>> backend.register_kernels()  # nothing to do once done
"""
import functools
import importlib

from .choice import NAME, _Op

__all__ = ["linker_kernels", "before_linking", "register_kernels"]

#: Functions that register one Op's kernels with PyTensor's linkers.
_KERNEL_DEFINITIONS = []
_kernels_registered = False


def linker_kernels(define=None, *, linker=None):
    """Decorator: `define()` registers kernels for regkit Ops with
    PyTensor's linkers; it runs once, when :func:`register_kernels` first
    runs (at once if that has happened already).  With `linker` (a
    ``"module:class"`` name such as ``backend.JAX_LINKER``), it runs later
    still: the first time that linker links a graph.  Returns `define`."""
    if define is None:
        return functools.partial(linker_kernels, linker=linker)
    if linker is None:
        _KERNEL_DEFINITIONS.append(define)
        if _kernels_registered:
            define()
        return define
    done = []

    def define_once(fgraph, input_storage, storage_map):
        if not done:
            done.append(define)
            define()
    before_linking(linker)(define_once)
    return define


def before_linking(linker):
    """Decorator: ``prepare(fgraph, input_storage, storage_map)`` runs
    each time the PyTensor linker `linker` (``"module:class"``) is about to
    turn a graph into code, before the linker's own conversion; installed
    lazily, as :func:`linker_kernels` definitions are.  Nothing happens on
    a PyTensor without that linker.  Returns `prepare`."""
    def decorate(prepare):
        linker_kernels(functools.partial(_wrap_linker, linker, prepare))
        return prepare
    return decorate


# PyTensor offers no documented hook that runs before a linker turns a
# graph into code, so this is the one place regkit patches PyTensor: the
# linker class's fgraph_convert(self, fgraph, input_storage, storage_map,
# **kwargs) is wrapped to call `prepare` first.
# tests/backend/test_linking.py checks that signature on every linker regkit
# patches, so the day PyTensor changes it a test fails instead of a silent
# wrong draw.
def _wrap_linker(linker, prepare):
    module, name = linker.split(":")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):  # a PyTensor without this linker
        return
    convert = cls.fgraph_convert

    @functools.wraps(convert)
    def fgraph_convert(self, fgraph, input_storage, storage_map, **kwargs):
        prepare(fgraph, input_storage, storage_map)
        return convert(self, fgraph, input_storage, storage_map, **kwargs)
    cls.fgraph_convert = fgraph_convert


def register_kernels():
    """Register every kernel defined with :func:`linker_kernels` (once;
    nothing on Theano, whose linkers run ``perform`` or the C code)."""
    global _kernels_registered
    if NAME != "pytensor" or _kernels_registered:
        return
    _kernels_registered = True
    for define in _KERNEL_DEFINITIONS:
        define()


class _RegkitOp(_Op):
    """Base of regkit's Ops: ``grad`` is also offered under PyTensor 3's
    name, ``pullback``; unpickling one (a pickled compiled function, in a
    new process) registers the linker kernels before the function is
    linked again, as building one does (each Op's ``make_node`` calls
    :func:`register_kernels`)."""

    def __setstate__(self, state):
        register_kernels()
        self.__dict__.update(state)

    def pullback(self, inputs, outputs, cotangents):
        return self.grad(inputs, cotangents)
