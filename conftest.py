"""Settings for every test pytest collects here: ``tests/``, the docstring
examples in ``regkit/`` and the examples in ``docs/``.

Functions compiled without an explicit ``mode`` use the quickest
compilation (:func:`regkit.backend.quick_compile`): Python implementations,
no C compiler, no Numba JIT.  The linker tests (``tests/test_linkers.py``)
name every linker explicitly.  ``REGKIT_TEST_LINKER=default`` runs
everything on the backend's default linker instead (slower: Numba compiles
every function on PyTensor, the C compiler every new Op on Theano).
"""
import os

from regkit import backend

_QUICK = None


def pytest_configure(config):
    global _QUICK
    choice = os.environ.get("REGKIT_TEST_LINKER", "quick")
    if choice not in ("quick", "default"):
        raise ValueError("REGKIT_TEST_LINKER must be 'quick' or 'default', "
                         "got %r" % (choice,))
    if choice == "quick":
        _QUICK = backend.quick_compile()
        _QUICK.__enter__()


def pytest_unconfigure(config):
    if _QUICK is not None:
        _QUICK.__exit__(None, None, None)


def pytest_report_header(config):
    return "regkit %s backend, compiling with %s" % (
        backend.NAME, "the default linker" if _QUICK is None
        else "quick_compile() unless a test names a linker")
