"""Theano's BLAS setting, written once (regkit/backend/theanorc.py): the
command, its edit of a .theanorc and the start-up flag."""
import configparser
import os
import subprocess
import sys

import pytest

import regkit
from regkit import backend


def test_the_theanorc_command_adds_the_blas_setting_once(tmp_path):
    from regkit.backend import theanorc
    path = str(tmp_path / "theanorc")
    assert theanorc.write_theanorc(path) is True
    assert theanorc.write_theanorc(path) is False
    parser = configparser.ConfigParser()
    parser.read(path)
    assert parser.get("blas", "ldflags") == ""
    kept = tmp_path / "own"
    kept.write_text("[blas]\nldflags = -lopenblas\n[global]\nfloatX = float32\n")
    assert theanorc.write_theanorc(str(kept)) is False
    assert "-lopenblas" in kept.read_text()


@pytest.mark.parametrize("before, after", [
    # comments, key spelling and order stay; the line joins an existing
    # [blas] section, else a new section is appended
    ("# my settings\n[global]\nfloatX = float32  ; single\n"
     "[blas]\n# no ldflags yet\ncheck_openmp = False\n",
     "# my settings\n[global]\nfloatX = float32  ; single\n"
     "[blas]\nldflags =\n# no ldflags yet\ncheck_openmp = False\n"),
    ("[global]\ndevice = cpu",
     "[global]\ndevice = cpu\n\n[blas]\nldflags =\n"),
])
def test_the_theanorc_command_edits_the_file_without_rewriting_it(
        tmp_path, before, after):
    from regkit.backend import theanorc
    path = tmp_path / "theanorc"
    path.write_text(before)
    assert theanorc.write_theanorc(str(path)) is True
    assert path.read_text() == after


def test_the_theanorc_command_refuses_a_file_theano_cannot_read(tmp_path):
    from regkit.backend import theanorc
    path = tmp_path / "theanorc"
    path.write_text("ldflags = outside any section\n")
    with pytest.raises(ValueError, match="theanorc"):
        theanorc.write_theanorc(str(path))
    assert path.read_text() == "ldflags = outside any section\n"


@pytest.mark.parametrize("flags, rc, want", [
    ("", None, "blas.ldflags="),
    ("floatX=float32", None, "floatX=float32,blas.ldflags="),
    ("blas.ldflags=-lblas", None, "blas.ldflags=-lblas"),
    # a configuration file that sets ldflags wins over the start-up default
    ("", "[blas]\nldflags = -lopenblas\n", ""),
    ("", "[global]\nfloatX = float32\n", "blas.ldflags="),
])
def test_the_environment_flag_sets_ldflags_unless_the_user_did(
        tmp_path, flags, rc, want):
    from regkit.backend import theanorc
    site = tmp_path / "site"
    site.mkdir()
    theanorc.write_environment_flag(str(site))
    rc_path = tmp_path / "theanorc"
    if rc is not None:
        rc_path.write_text(rc)
    env = dict(os.environ, THEANO_FLAGS=flags, THEANORC=str(rc_path))
    env.pop("PYTHONPATH", None)
    # site.addsitedir processes the .pth file as Python's start-up does
    # (-S: no other start-up file runs first); regkit must not be imported
    script = ("import os, site, sys; site.addsitedir(%r); "
              "print(os.environ['THEANO_FLAGS']); "
              "print('regkit' in sys.modules)" % str(site))
    done = subprocess.run([sys.executable, "-S", "-c", script],
                          capture_output=True, text=True, env=env, check=True)
    assert done.stderr == ""
    assert done.stdout.splitlines() == [want, "False"]


def test_the_environment_flag_is_harmless_once_regkit_is_gone(tmp_path):
    from regkit.backend import theanorc
    path = theanorc.write_environment_flag(str(tmp_path))
    line = open(path).read().replace(theanorc._FLAGS_MODULE,
                                     str(tmp_path / "removed.py"))
    open(path, "w").write(line)
    script = "import site; site.addsitedir(%r); print('ok')" % str(tmp_path)
    done = subprocess.run([sys.executable, "-S", "-c", script],
                          capture_output=True, text=True, check=True)
    assert (done.stdout, done.stderr) == ("ok\n", "")


@pytest.mark.skipif(backend.NAME != "theano", reason="Theano only")
def test_theano_imports_first_and_scan_compiles_in_the_make_environment():
    # make's Theano environment holds the start-up flag, so a Lasagne
    # script's first line (import theano) works before import regkit; and
    # regkit makes Theano's scan run its Python loop (the Cython one
    # cannot build on Python 3.11), so a recurrent function compiles
    # under the default mode
    import sysconfig
    from regkit.backend import theanorc
    site = sysconfig.get_paths()["purelib"]
    assert os.path.exists(os.path.join(site, theanorc.PTH_NAME)), \
        "make's Theano environment must write %s" % theanorc.PTH_NAME
    script = ("import theano, theano.tensor as T\n"
              "import regkit\n"
              "x = T.vector('x')\n"
              "s, _ = theano.scan(lambda v, a: a + v, sequences=[x],\n"
              "                   outputs_info=[T.zeros(())])\n"
              "print(float(theano.function([x], s[-1])([1., 2., 3.])))\n")
    env = dict(os.environ)
    env.pop("THEANO_FLAGS", None)
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(os.path.abspath(
        regkit.__file__)))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True,
                          text=True, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "6.0"


def test_the_theanorc_command_runs_without_warnings(tmp_path):
    # runpy warns when the package already imported the module it runs
    env = dict(os.environ, THEANORC=str(tmp_path / "theanorc"),
               PYTHONPATH=os.path.dirname(os.path.dirname(regkit.__file__)))
    done = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-m",
         "regkit.backend.theanorc"],
        capture_output=True, text=True, env=env, check=True)
    assert "RuntimeWarning" not in done.stderr
    assert done.stdout.startswith("added [blas] ldflags =")
    assert (tmp_path / "theanorc").read_text() == "[blas]\nldflags =\n"
