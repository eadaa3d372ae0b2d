"""The package's namespaces and its import graph.

The top level hands on every public name; each module's ``__all__`` lists
exactly its public names; the old module paths keep working; and imports
run one way only, down the layers described in docs/guide/architecture.rst.
"""
import ast
import importlib
import os
import pkgutil

import regkit
from regkit import (apply, constraints, init, layers, nonlinearities,
                    penalties, regularization, regularizers)

# names that stay in their module: the nonlinearities (used as
# regkit.nonlinearities.<name>, as in Lasagne), the tensor conversions for
# people writing penalties, and the norm-constraint helper
# the plumbing the layers package offers the rest of regkit (and anyone
# writing a consumer of networks) stays in regkit.layers
LAYERS_PLUMBING = {
    "NETWORK_FORMS", "ROLES", "as_layer_list", "check_tag_names",
    "compute_roles", "filter_tags", "group_by_role", "input_layers",
    "is_input_layer", "is_layer", "is_training_only", "param_name",
    "read_inputs", "input_arg", "tags_in_use", "walk", "unique",
    "as_hooks", "Unit", "find_units"}

STAY_IN_MODULE = {
    layers: set(nonlinearities.__all__) | LAYERS_PLUMBING,
    penalties: {"is_tensor_like", "as_float_tensor", "safe_sqrt", "safe_norm",
                "fused_sum"},
    init: {"seed_sequence"},
    regularization: {"check_tags", "weighted_sum"},
    constraints: {"default_norm_axes", "rescale_norms"},
    regularizers: {"add_clean_suffix", "change_weights", "inverted_dropout",
                   "term_labels", "ORTHOGONAL_METHODS",
                   "MAX_ORTHOGONAL_SIZE"},
}

PACKAGE_DIR = os.path.dirname(regkit.__file__)


def _all_modules(private=True):
    """regkit's modules; without the private ones (a part of the name
    starting with an underscore, other than regkit._checks) if not
    `private`."""
    names = ["regkit"]
    for info in pkgutil.walk_packages([PACKAGE_DIR], "regkit."):
        names.append(info.name)
    if not private:
        names = [n for n in names
                 if not any(part.startswith("_") for part in n.split(".")[2:])]
    return names


def test_every_public_name_is_reachable_from_regkit():
    for module in (apply, constraints, init, layers, penalties,
                   regularization, regularizers):
        wanted = set(module.__all__) - STAY_IN_MODULE.get(module, set())
        missing = sorted(n for n in wanted if not hasattr(regkit, n))
        assert not missing, (module.__name__, missing)
        for name in wanted:
            assert getattr(regkit, name) is getattr(module, name)
    assert set(regkit.__all__) <= set(dir(regkit))


def test_no_private_name_at_the_top():
    assert not [n for n in regkit.__all__
                if n.startswith("_") and n != "__version__"]


def test_every_module_lists_exactly_what_it_offers():
    for name in _all_modules():
        module = importlib.import_module(name)
        listed = module.__all__
        assert len(listed) == len(set(listed)), name
        assert not [n for n in listed
                    if n.startswith("_") and n != "__version__"], name
        assert not [n for n in listed if not hasattr(module, n)], name
        # public functions and classes defined here are listed (what a
        # module merely imports for its own use is not)
        defined = [n for n, value in vars(module).items()
                   if not n.startswith("_") and callable(value)
                   and getattr(value, "__module__", None) == name]
        assert not sorted(set(defined) - set(listed)), name


def test_old_module_paths_hand_on_the_moved_names():
    # regkit.apply, regkit.layers.<name>, regkit.regularizers.<name> and
    # regkit.backend.<name> still work for every name of the new modules
    for name in apply.__all__:
        assert getattr(apply, name) is getattr(regularization, name)
    for package in (layers, regularizers, regkit.backend):
        for name in _all_modules(private=False):
            if not name.startswith(package.__name__ + "."):
                continue
            module = importlib.import_module(name)
            for public in module.__all__:
                assert getattr(package, public) is getattr(module, public), (
                    name, public)


# Each module may import only from modules of a lower rank: data flows
# from the backend up to the regularizers, never back.
RANKS = {
    "regkit.backend._theano_flags": -1,
    "regkit.backend.choice": 0,
    "regkit.backend.theanorc": 0,
    "regkit.backend.graph": 1,
    "regkit.backend.linking": 1,
    "regkit.backend.ops": 2,
    "regkit.backend.random": 2,
    "regkit.backend.fused": 3,
    "regkit.backend.streams": 3,
    "regkit.backend": 4,
    "regkit._checks": 5,
    "regkit.schedules": 6,
    "regkit.nonlinearities": 6,
    "regkit.penalties": 6,
    "regkit.losses": 7,
    "regkit.init": 6,
    "regkit.constraints": 7,
    "regkit.layers.base": 8,
    "regkit.layers.units": 8,
    "regkit.layers.input": 9,
    "regkit.layers.graph": 9,
    "regkit.layers.dense": 9,
    "regkit.layers.merge": 9,
    "regkit.layers.tags": 9,
    "regkit.layers.walk": 10,
    "regkit.layers.roles": 11,
    "regkit.layers.network": 12,
    "regkit.layers.params": 13,
    "regkit.layers.hooks": 13,
    "regkit.layers.outputs": 14,
    "regkit.layers.helper": 14,
    "regkit.layers": 15,
    "regkit.regularization": 16,
    "regkit.apply": 17,
    "regkit.regularizers.patterns": 18,
    "regkit.regularizers.base": 19,
    "regkit.regularizers.weights": 20,
    "regkit.regularizers.spectral": 20,
    "regkit.regularizers.depth": 20,
    "regkit.regularizers.montecarlo": 20,
    "regkit.regularizers.weight_changes": 21,
    "regkit.regularizers.activity": 20,
    "regkit.regularizers.stochastic": 20,
    "regkit.regularizers.updates": 20,
    "regkit.regularizers.contractive": 21,
    "regkit.regularizers.factory": 21,
    "regkit.regularizers.audit": 21,
    "regkit.regularizers.training": 20,
    "regkit.regularizers": 22,
    "regkit.parametrizations": 22,
    "regkit.regularizers.parametrize": 21.5,
    "regkit.pymc": 22.5,
    "regkit": 23,
}
SYMBOLIC_LIBRARIES = {"theano", "pytensor", "numba", "jax", "jaxlib", "torch",
                      "mlx"}


def _package(name):
    """The package a module belongs to (regkit's top-level modules belong
    to regkit)."""
    module = importlib.import_module(name)
    if module.__file__.endswith("__init__.py"):
        return name
    return name.rpartition(".")[0]


def _imported_names(name):
    """(module imported from, name) of every ``from ... import name`` of
    the module `name`."""
    module = importlib.import_module(name)
    with open(module.__file__) as handle:
        tree = ast.parse(handle.read())
    package = _package(name)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module
                                          else []))
            else:
                target = node.module
            for alias in node.names:
                yield target, alias.name


def test_packages_talk_through_public_names():
    # a name one package takes from another is public there (documented,
    # in __all__): no underscore import crosses a package boundary
    crossing = []
    for name in _all_modules():
        for target, imported in _imported_names(name):
            if not target.startswith("regkit") or not imported.startswith("_"):
                continue
            if _package(target) != _package(name):
                crossing.append((name, target, imported))
    assert not crossing


def _imports(name):
    module = importlib.import_module(name)
    is_package = module.__file__.endswith("__init__.py")
    with open(module.__file__) as handle:
        tree = ast.parse(handle.read())
    package = name if is_package else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                yield node.module
                continue
            base = package.split(".")
            base = base[:len(base) - (node.level - 1)]
            target = ".".join(base + ([node.module] if node.module else []))
            if node.module is None:  # from . import backend
                for alias in node.names:
                    yield target + "." + alias.name
            else:
                yield target


def test_modules_import_only_downwards():
    modules = _all_modules()
    assert sorted(modules) == sorted(RANKS), "give new modules a rank"
    for name in modules:
        for target in _imports(name):
            if not target.startswith("regkit"):
                continue
            while target not in RANKS:  # a name imported from a module
                target = target.rpartition(".")[0]
            assert RANKS[target] < RANKS[name], (name, "imports", target)


def test_only_the_backend_imports_symbolic_libraries():
    for name in _all_modules():
        if name == "regkit.backend" or name.startswith("regkit.backend."):
            continue
        for target in _imports(name):
            assert target.split(".")[0] not in SYMBOLIC_LIBRARIES, (
                name, target)


def test_api_pages_list_every_name_of_the_split_packages():
    docs = os.path.join(os.path.dirname(PACKAGE_DIR), "docs", "api")
    for package in (layers, regularizers, regkit.backend):
        page = os.path.join(docs, package.__name__.split(".")[1] + ".rst")
        if not os.path.exists(page):  # an installed copy without the docs
            continue
        with open(page) as handle:
            text = handle.read()
        for name in _all_modules(private=False):
            if not name.startswith(package.__name__ + "."):
                continue
            assert ".. automodule:: %s" % name in text, name
            module = importlib.import_module(name)
            for public in module.__all__:
                value = getattr(module, public)
                if not getattr(value, "__module__", "").startswith("regkit"):
                    continue  # the backend library's own objects
                if getattr(value, "__module__", "") != name:
                    continue  # handed on from another module
                assert ":: %s\n" % public in text, (name, public)


def test_docstring_examples_are_self_contained():
    # each Examples section imports what it uses, so that it runs when
    # copied into a script (and under sphinx-build -b doctest, where a
    # page shares one namespace instead of the module's)
    failures = []
    registry = dict(regkit.REGISTRY)  # examples define regularizers
    try:
        _run_examples_without_module_globals(failures)
    finally:
        regkit.REGISTRY.clear()
        regkit.REGISTRY.update(registry)
    assert not failures, failures[0]


def _run_examples_without_module_globals(failures):
    import doctest
    for name in _all_modules():
        module = importlib.import_module(name)
        for test in doctest.DocTestFinder().find(module, name):
            if not test.examples:
                continue
            test.globs = {}
            runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
            report = []
            runner.run(test, out=report.append)
            if runner.failures:
                failures.append((test.name, "".join(report)[-500:]))
