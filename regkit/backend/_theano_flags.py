"""Whether the user configured Theano's ``blas.ldflags``, and the default
regkit supplies when not.

This module uses the standard library only and imports nothing of regkit:
the start-up file that ``python -m regkit.backend.theanorc --environment``
writes loads it by path, before any import, so it must stay importable on
its own.

Examples
--------
>>> from regkit.backend._theano_flags import user_ldflags
>>> user_ldflags({"THEANO_FLAGS": "floatX=float32,blas.ldflags=-lblas"})
'-lblas'
"""
import configparser
import os

__all__ = ["user_ldflags", "supply_ldflags"]

_DEFAULT_RC = "~/.theanorc" + os.pathsep + "~/.theanorc.txt"


def user_ldflags(environ=os.environ):
    """The ``blas.ldflags`` the user configured (``THEANO_FLAGS`` first,
    then the configuration files ``THEANORC`` names, else ``~/.theanorc``
    and ``~/.theanorc.txt``, as Theano reads them), or None."""
    for item in environ.get("THEANO_FLAGS", "").split(","):
        key, _, value = item.partition("=")
        if key.strip() in ("blas.ldflags", "blas__ldflags"):
            return value.strip()
    for path in environ.get("THEANORC", _DEFAULT_RC).split(os.pathsep):
        parser = configparser.ConfigParser()
        try:
            parser.read(os.path.expanduser(path))
        except configparser.Error:
            continue  # Theano itself will report a broken config file
        if parser.has_option("blas", "ldflags"):
            return parser.get("blas", "ldflags").strip()
    return None


def supply_ldflags(environ=os.environ):
    """Add ``blas.ldflags=`` (Theano's own C BLAS code) to ``THEANO_FLAGS``
    in `environ` unless the user configured ``blas.ldflags`` anywhere;
    returns whether it did."""
    if user_ldflags(environ) is not None:
        return False
    flags = environ.get("THEANO_FLAGS", "")
    environ["THEANO_FLAGS"] = ",".join(
        part for part in (flags, "blas.ldflags=") if part)
    return True
