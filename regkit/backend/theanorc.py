"""Theano's BLAS setting, written once, so that ``import theano`` (or
``import lasagne``) works before ``import regkit`` does.

With numpy >= 1.22, Theano 1.0.5 fails at import on ``numpy.distutils ...
blas_opt_info`` unless its flag ``blas.ldflags`` is set.  ``import
regkit`` sets it when the user has not, but a script whose first line is
``import lasagne`` imports Theano before regkit can.  This command writes
the setting where Theano reads it::

    python -m regkit.backend.theanorc            # ~/.theanorc (or $THEANORC)
    python -m regkit.backend.theanorc --environment   # this environment only

The first adds ``[blas] ldflags =`` to Theano's configuration file (the
file ``THEANORC`` names, else ``~/.theanorc``), unless a ``blas.ldflags``
is already set there; the second writes a ``.pth`` file into this Python
environment's site-packages that sets ``THEANO_FLAGS=blas.ldflags=`` at
start-up unless the user configured ``blas.ldflags`` (in ``THEANO_FLAGS``
or a configuration file: a ``~/.theanorc`` with ``-lopenblas`` wins); this
is what ``make`` does for the Theano test environment.  An empty ``ldflags``
means Theano's own C BLAS code, as ``import regkit`` chooses.  Running
either twice changes nothing.

Examples
--------
>>> import os, tempfile
>>> from regkit.backend import theanorc
>>> path = os.path.join(tempfile.mkdtemp(), "theanorc")
>>> theanorc.write_theanorc(path)
True
>>> theanorc.write_theanorc(path)  # already set
False
>>> print(open(path).read().strip())
[blas]
ldflags =
"""
import argparse
import configparser
import os
import sys
import sysconfig

__all__ = ["write_theanorc", "write_environment_flag"]

#: The .pth file that sets the flag at start-up (see the module docs).
PTH_NAME = "regkit-theano-blas.pth"

#: The module the .pth file loads by path: standard library only, so the
#: start-up neither imports regkit nor fails if regkit is uninstalled.
_FLAGS_MODULE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             "_theano_flags.py")

_PTH_LINE = (
    "import os, importlib.util as u; p = {path!r}; "
    "s = os.path.exists(p) and u.spec_from_file_location('_regkit_flags', p); "
    "m = s and u.module_from_spec(s); "
    "s and (s.loader.exec_module(m), m.supply_ldflags(os.environ))\n")


def _default_path(environ=os.environ):
    first = environ.get("THEANORC", "~/.theanorc").split(os.pathsep)[0]
    return os.path.expanduser(first)


def write_theanorc(path=None):
    """Add ``[blas] ldflags =`` to Theano's configuration file `path`
    (default: the first file ``THEANORC`` names, else ``~/.theanorc``);
    returns False, and changes nothing, if ``blas.ldflags`` is already set
    there.

    The file is edited, not rewritten: its comments, order and spelling
    stay; the line goes under an existing ``[blas]`` section, or a new
    section is appended.  A file Theano could not read is refused
    (ValueError naming it) rather than changed.
    """
    path = _default_path() if path is None else path
    text = ""
    if os.path.exists(path):
        with open(path) as handle:
            text = handle.read()
    parser = configparser.ConfigParser()
    try:
        parser.read_string(text, source=path)
    except configparser.Error as error:
        raise ValueError("%s is not a configuration file Theano can read; "
                         "fix it first (%s)" % (path, error)) from None
    if parser.has_option("blas", "ldflags"):
        return False
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    header = [i for i, line in enumerate(lines)
              if line.strip() == "[blas]"]
    if header:
        lines.insert(header[0] + 1, "ldflags =\n")
    else:
        lines.extend(["\n"] if lines else [])
        lines.extend(["[blas]\n", "ldflags =\n"])
    with open(path, "w") as handle:
        handle.writelines(lines)
    return True


def write_environment_flag(directory=None):
    """Write :data:`PTH_NAME` into `directory` (default: this environment's
    site-packages); returns its path."""
    directory = directory or sysconfig.get_paths()["purelib"]
    path = os.path.join(directory, PTH_NAME)
    with open(path, "w") as handle:
        handle.write(_PTH_LINE.format(path=_FLAGS_MODULE))
    return path


def _main(argv=None):
    """The command line (see the module documentation)."""
    parser = argparse.ArgumentParser(
        prog="python -m regkit.backend.theanorc",
        description="Set Theano's blas.ldflags once, so that Theano (and "
                    "Lasagne) import before regkit does.")
    parser.add_argument("--environment", action="store_true",
                        help="set it for this Python environment only (a "
                             ".pth file in site-packages)")
    args = parser.parse_args(argv)
    if args.environment:
        print("wrote %s" % write_environment_flag())
    else:
        path = _default_path()
        print(("added [blas] ldflags = to %s" if write_theanorc(path)
               else "%s already sets blas.ldflags") % path)
    return 0


if __name__ == "__main__":
    sys.exit(_main())
