"""The top-level namespace hands on every public name of the package."""
import regkit
from regkit import (apply, constraints, layers, nonlinearities, penalties,
                    regularizers)

# names that stay in their module: the nonlinearities (used as
# regkit.nonlinearities.<name>, as in Lasagne), the tensor conversions for
# people writing penalties, and the norm-constraint helpers
STAY_IN_MODULE = {
    layers: set(nonlinearities.__all__),
    penalties: {"is_tensor_like", "as_float_tensor"},
    constraints: {"default_norm_axes", "check_positive"},
}


def test_every_public_name_is_reachable_from_regkit():
    for module in (apply, constraints, layers, penalties, regularizers):
        wanted = set(module.__all__) - STAY_IN_MODULE.get(module, set())
        missing = sorted(n for n in wanted if not hasattr(regkit, n))
        assert not missing, (module.__name__, missing)
        for name in wanted:
            assert getattr(regkit, name) is getattr(module, name)
    assert set(regkit.__all__) <= set(dir(regkit))


def test_no_private_name_at_the_top():
    assert not [n for n in regkit.__all__
                if n.startswith("_") and n != "__version__"]
