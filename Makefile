# regkit: `make test` tests both backends, each in its own virtual
# environment (created on first use, refreshed when setup.py or the pins
# change); `make demo` runs the example; `make docs` builds the docs.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
# The newest Python on the machine (3.13, else 3.12) for the newest PyTensor:
# from the PATH if it runs there, else from pyenv's versions folder (pyenv's
# shim for a version that is installed but not active fails to run).
NEWEST_PYTHON ?= $(shell for v in 3.13 3.12; do \
	p=$$(command -v python$$v 2>/dev/null); \
	if [ -n "$$p" ] && "$$p" -c pass 2>/dev/null; then echo $$p; exit 0; fi; \
	r=$$(pyenv root 2>/dev/null); \
	for d in $$(ls -d "$$r"/versions/$$v.* 2>/dev/null | sort -V -r); do \
		if "$$d/bin/python$$v" -c pass 2>/dev/null; then \
			echo "$$d/bin/python$$v"; exit 0; fi; \
	done; done)
VENV := .venv
BACKENDS := theano pytensor
PYTEST_ARGS ?=

.PHONY: test test-fast $(addprefix test-,$(BACKENDS)) test-pytensor-newest bench-pytensor-newest package $(addprefix wheel-,$(BACKENDS)) bench $(addprefix bench-,$(BACKENDS)) demo docs clean

# Run the suite on every backend and check the package, then fail if any
# of them failed.  (Running the three environments at once was slower on
# 2 cores: a cold run took longer than one after the other.)
test:
	@status=0; \
	for target in $(addprefix test-,$(BACKENDS)) test-pytensor-newest \
			$(addprefix wheel-,$(BACKENDS)); do \
		$(MAKE) --no-print-directory $$target || status=1; \
	done; \
	exit $$status

# PyTensor 3.0.7 on Python 3.11 also gets torch for the PyTorch linker:
# pinned to 2.13.0, a CPU build (about 0.75 GB installed) where pip finds
# one; PyPI's builds of torch for Linux are CUDA builds of several GB.
EXTRAS_pytensor := torch,

# The Theano environment sets Theano's blas.ldflags at start-up (a .pth
# file), so that `import theano` or `import lasagne` works before `import
# regkit` there too (see regkit/backend/theanorc.py).
SETUP_theano = $(VENV)/theano/bin/python -m regkit.backend.theanorc --environment

$(VENV)/%/.installed: setup.py requirements/%.txt
	rm -rf $(VENV)/$*
	$(PYTHON) -m venv $(VENV)/$*
	$(VENV)/$*/bin/python -m pip install --quiet --upgrade "pip>=23"
	$(VENV)/$*/bin/python -m pip install --quiet -c requirements/$*.txt \
		-e ".[$*,$(EXTRAS_$*)test,demo]"
	$(SETUP_$*)
	touch $@

# pytest-xdist runs the tests on every core (WORKERS=1 for one process).
WORKERS ?= auto

# The test workers share one compile cache: they retry its lock every
# 1-2 s instead of Theano's and PyTensor's default 5-10 s (the user's own
# flags are kept).
WAIT_FLAGS = THEANO_FLAGS="$${THEANO_FLAGS:+$$THEANO_FLAGS,}compile.wait=1" \
	PYTENSOR_FLAGS="$${PYTENSOR_FLAGS:+$$PYTENSOR_FLAGS,}compile__wait=1"

$(addprefix test-,$(BACKENDS)): test-%: $(VENV)/%/.installed
	@echo "=== regkit tests on $*"
	$(WAIT_FLAGS) REGKIT_BACKEND=$* $(VENV)/$*/bin/python -m pytest -p no:cacheprovider \
		-n $(WORKERS) --cov --cov-config=.coveragerc-$* --cov-branch \
		$(PYTEST_ARGS)

# The inner loop: one environment (PyTensor 3.0.7 on Python 3.11), the
# tests not marked slow, no coverage.  `make test` is the full check.
test-fast: $(VENV)/pytensor/.installed
	$(WAIT_FLAGS) REGKIT_BACKEND=pytensor $(VENV)/pytensor/bin/python -m pytest \
		-p no:cacheprovider -q -n $(WORKERS) -m "not slow" $(PYTEST_ARGS)

# The newest PyTensor on the newest Python, with jax (CPU) for the JAX
# linker, mlx (CPU) for the MLX linker, PyMC 6 and pytensor-ml (which need
# Python >= 3.12); pinned in requirements/pytensor-newest.txt.
$(VENV)/pytensor-newest/.installed: setup.py requirements/pytensor-newest.txt
	@test -n "$(NEWEST_PYTHON)" || { echo "no Python 3.12 or 3.13 found" \
		"(on the PATH or in pyenv); set NEWEST_PYTHON=..." >&2; exit 1; }
	rm -rf $(VENV)/pytensor-newest
	$(NEWEST_PYTHON) -m venv $(VENV)/pytensor-newest
	$(VENV)/pytensor-newest/bin/python -m pip install --quiet --upgrade "pip>=23"
	$(VENV)/pytensor-newest/bin/python -m pip install --quiet \
		-c requirements/pytensor-newest.txt \
		-e ".[pytensor,jax,mlx,pymc,pytensor-ml,test,demo]"
	touch $@

test-pytensor-newest: $(VENV)/pytensor-newest/.installed
	@echo "=== regkit tests on the newest PyTensor (Python, PyTensor:" \
		"$$($(VENV)/pytensor-newest/bin/python -c 'import sys, pytensor; print(sys.version.split()[0], pytensor.__version__)'))"
	$(WAIT_FLAGS) REGKIT_BACKEND=pytensor \
		$(VENV)/pytensor-newest/bin/python -m pytest -p no:cacheprovider -n $(WORKERS) \
		--cov --cov-config=.coveragerc-pytensor-newest --cov-branch \
		$(PYTEST_ARGS)

# Build the sdist and the wheel and check their metadata (once per change
# of the sources, however many targets need them).
PACKAGE_SOURCES := setup.py pyproject.toml MANIFEST.in README.md LICENSE \
	$(wildcard regkit/*.py regkit/*/*.py)

package: dist/.checked

dist/.checked: $(PACKAGE_SOURCES) $(VENV)/pytensor/.installed
	rm -rf dist
	$(VENV)/pytensor/bin/python -m build --outdir dist . > /dev/null
	$(VENV)/pytensor/bin/python -m twine check --strict dist/*
	touch $@

# Install the wheel (distribution regkit-nn, import name regkit) with each
# backend's extra into a fresh environment and run the quickstart from
# outside the source tree.
$(addprefix wheel-,$(BACKENDS)): wheel-%: dist/.checked
	@echo "=== wheel install with [$*]"
	rm -rf $(VENV)/wheel-$*
	$(PYTHON) -m venv $(VENV)/wheel-$*
	$(VENV)/wheel-$*/bin/python -m pip install --quiet -c requirements/$*.txt \
		"$$(ls dist/regkit_nn-*.whl)[$*]"
	cd $(VENV) && REGKIT_BACKEND=$* wheel-$*/bin/python -c \
		"import regkit, sys; assert 'site-packages' in regkit.__file__, regkit.__file__"
	cd $(VENV) && REGKIT_BACKEND=$* wheel-$*/bin/python -c \
		"import importlib.metadata as m, regkit; assert m.version('regkit-nn') == regkit.__version__"
	cd $(VENV) && REGKIT_BACKEND=$* wheel-$*/bin/python \
		$(CURDIR)/examples/quickstart.py --steps 100

# Benchmarks print Markdown tables; run them on every backend.
BENCHMARKS := $(sort $(wildcard benchmarks/bench_*.py))

bench: $(addprefix bench-,$(BACKENDS)) bench-pytensor-newest

bench-pytensor-newest: $(VENV)/pytensor-newest/.installed
	@for script in $(BENCHMARKS); do \
		REGKIT_BACKEND=pytensor $(VENV)/pytensor-newest/bin/python $$script \
			|| exit 1; \
	done

$(addprefix bench-,$(BACKENDS)): bench-%: $(VENV)/%/.installed
	@for script in $(BENCHMARKS); do \
		REGKIT_BACKEND=$* $(VENV)/$*/bin/python $$script || exit 1; \
	done

demo: $(VENV)/pytensor/.installed
	REGKIT_BACKEND=pytensor $(VENV)/pytensor/bin/python examples/digits.py \
		--output docs/_static/digits.png

$(VENV)/docs/.installed: setup.py requirements/pytensor.txt requirements/docs.txt
	rm -rf $(VENV)/docs
	$(PYTHON) -m venv $(VENV)/docs
	$(VENV)/docs/bin/python -m pip install --quiet --upgrade "pip>=23"
	$(VENV)/docs/bin/python -m pip install --quiet \
		-c requirements/pytensor.txt -c requirements/docs.txt \
		-e ".[pytensor,docs]"
	touch $@

docs: $(VENV)/docs/.installed
	REGKIT_BACKEND=pytensor $(VENV)/docs/bin/sphinx-build -W --keep-going \
		-b html docs docs/_build/html
	REGKIT_BACKEND=pytensor $(VENV)/docs/bin/sphinx-build -W --keep-going -q \
		-b doctest docs docs/_build/doctest

clean:
	rm -rf $(VENV) build dist docs/_build *.egg-info
