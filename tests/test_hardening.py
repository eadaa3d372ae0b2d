"""Hardening: dtypes, no hidden mutation, determinism, pickling."""
import importlib.util
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

import regkit
from regkit import backend
from regkit.layers import get_outputs

from conftest import mlp

T = backend.tensor
HERE = os.path.dirname(os.path.abspath(__file__))


# -------------------------------------------------------------- dtypes --

def _float_nodes(outputs):
    """dtypes of every float variable in the graph of `outputs`."""
    seen, todo, dtypes = set(), list(outputs), set()
    while todo:
        var = todo.pop()
        if id(var) in seen:
            continue
        seen.add(id(var))
        dtype = getattr(var, "dtype", "")
        if isinstance(dtype, str) and dtype.startswith("float"):
            dtypes.add(dtype)
        if var.owner is not None:
            todo.extend(var.owner.inputs)
    return dtypes


def test_float32_graphs_stay_float32():
    if backend.floatX != "float32":
        # run this test again in a process whose floatX is float32
        flags = "THEANO_FLAGS" if backend.NAME == "theano" else \
            "PYTENSOR_FLAGS"
        env = dict(os.environ, REGKIT_BACKEND=backend.NAME)
        env[flags] = ",".join(f for f in (os.environ.get(flags, ""),
                                          "floatX=float32") if f)
        # --no-cov only where pytest-cov is installed (it is optional)
        no_cov = ["--no-cov"] if importlib.util.find_spec("pytest_cov") \
            else []
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
            + no_cov + [__file__ + "::test_float32_graphs_stay_float32"],
            env=env, capture_output=True, text=True, timeout=900,
            cwd=os.path.dirname(HERE))
        assert result.returncode == 0, result.stdout[-3000:]
        assert "1 passed" in result.stdout
        return
    l_in, hid, out = mlp((5, 6, 3), seed=0, out={"nonlinearity": None})
    x = l_in.input_var
    regs = regkit.from_kwargs(
        out, weight_l2=np.float64(1e-4), weight_l1=1e-5, hidden_l1=0.1,
        hidden_l2=0.2, kl_sparsity={"weight": 0.1, "target": 0.1},
        hidden_dropout=0.5, input_noise=0.1, max_norm=2.0)
    outputs = get_outputs(out, regularizers=regs)
    terms = [
        regkit.total_penalty(regs, out, outputs),
        1e-4 * regkit.regularize_network_params(out, regkit.l2),
        regkit.regularize_layer_params_weighted(
            {hid: np.float64(0.5), out: 2}, regkit.l1),
        regkit.regularize_network_params(out, regkit.elastic_net,
                                         l1_ratio=np.float64(0.3)),
        regkit.regularize_network_params(out, regkit.group_lasso),
        regkit.regularize_network_params(out, regkit.orthogonality),
        regkit.regularize_network_params(out, regkit.total_variation),
        outputs["out:out"],
    ]
    params = regkit.get_all_params(out, trainable=True)
    loss = T.mean(T.sqr(outputs["out:out"])) + terms[0] + terms[1]
    grads = backend.grad(loss, params)
    sgd = [(p, p - np.asarray(0.1, p.dtype) * g)
           for p, g in zip(params, grads)]
    updates = regkit.apply_update_hooks(regs, out, sgd)
    constrained = regkit.total_norm_constraint(grads, 1.0) + [
        regkit.norm_constraint(hid.W, np.float64(3.0))]
    for term in terms + list(updates.values()) + constrained:
        assert term.dtype == "float32", term
        assert _float_nodes([term]) == {"float32"}, term
    # and the compiled values are float32 too
    values = backend.function([x], terms)(np.ones((2, 5), "float32"))
    assert {v.dtype for v in values} == {np.dtype("float32")}


def test_integer_inputs_to_penalties_are_rejected():
    for penalty in (regkit.l1, regkit.l2, regkit.elastic_net,
                    regkit.group_lasso, regkit.orthogonality,
                    regkit.total_variation, regkit.kl_sparsity):
        with pytest.raises(TypeError, match="float dtype"):
            penalty(np.ones((3, 3), dtype="int32"))


# ------------------------------------------------------- no mutation --

def test_regkit_never_mutates_callers_objects():
    l_in, hid, out = mlp((5, 6, 3), seed=0, out={"nonlinearity": None})
    before_values = [p.get_value().copy() for p in regkit.get_all_params(out)]
    before_tags = {layer: [(p, set(tags)) for p, tags in layer.params.items()]
                   for layer in regkit.get_all_layers(out)}
    tags = {"regularizable": True}
    weights = {hid: 0.5, out: 2.0}
    layers = [hid, out]
    kwargs = {"weight_l2": 1e-4, "hidden_dropout": {"weight": 0.5, "rng": 1},
              "max_norm": 3.0}
    pattern = ["hid.*", "out.W"]
    sgd = [(hid.W, hid.W * 2), (out.W, out.W * 3)]
    sgd_copy = list(sgd)
    regs = regkit.from_kwargs(out, **kwargs)
    regs.append(regkit.WeightL1(pattern, 0.1, tags=tags))
    outputs = get_outputs(out, regularizers=regs)
    regkit.total_penalty(regs, out, outputs)
    regkit.apply_update_hooks(regs, out, sgd)
    regkit.regularize_layer_params(layers, regkit.l2, tags=tags)
    regkit.regularize_layer_params_weighted(weights, regkit.l2, tags=tags)
    regkit.regularize_network_params(out, regkit.l1, tags=tags)
    regkit.apply_penalty(layers[0].get_params(), regkit.l2)
    regkit.total_norm_constraint([hid.W, out.W], 1.0)
    assert tags == {"regularizable": True}
    assert weights == {hid: 0.5, out: 2.0} and layers == [hid, out]
    assert kwargs["hidden_dropout"] == {"weight": 0.5, "rng": 1}
    assert pattern == ["hid.*", "out.W"] and sgd == sgd_copy
    for param, value in zip(regkit.get_all_params(out), before_values):
        assert np.array_equal(param.get_value(), value)
    for layer, params in before_tags.items():
        now = [(p, set(tags)) for p, tags in layer.params.items()]
        assert len(now) == len(params)
        assert all(a is c and b == d for (a, b), (c, d) in zip(now, params))


# ------------------------------------------------------- determinism --

_DETERMINISM_SCRIPT = r"""
import sys
import numpy as np
import regkit
from regkit import backend
regkit.layers.set_rng(42)
l_in = regkit.InputLayer((None, 5), name="in")
hid = regkit.DenseLayer(l_in, 6, name="hid")
out = regkit.DenseLayer(hid, 3, name="out")
regs = regkit.from_kwargs(out, hidden_dropout={"weight": 0.5, "rng": 7},
                          input_noise={"weight": 0.3, "rng": 8})
# and regularizers without seeds: streams spawned from set_rng's seed
regs += regkit.from_kwargs(out, hidden_dropout=0.3, input_dropout=0.2,
                           output_noise=0.1)
outputs = regkit.get_outputs(out, regularizers=regs)
fn = backend.function([l_in.input_var], outputs["out:out"],
                      updates=regkit.random_updates(outputs))
x = np.ones((4, 5), dtype=backend.floatX)
values = [p.get_value() for p in regkit.get_all_params(out)]
values += [fn(x) for _ in range(3)]
sys.stdout.write("".join(np.ascontiguousarray(v).tobytes().hex()
                         for v in values))
"""


@pytest.mark.slow
def test_same_seeds_give_bitwise_identical_results_across_processes():
    env = dict(os.environ, REGKIT_BACKEND=backend.NAME,
               PYTHONHASHSEED="random")
    runs = [subprocess.run([sys.executable, "-c", _DETERMINISM_SCRIPT],
                           env=env, capture_output=True, text=True,
                           check=True, timeout=600).stdout
            for _ in range(2)]
    assert runs[0] and runs[0] == runs[1]


# ---------------------------------------------------------- pickling --

def test_network_and_regularizers_pickle_round_trip():
    l_in, hid, out = mlp((5, 6, 3), seed=3, out={"nonlinearity": None})
    regs = regkit.from_kwargs(out, weight_l2=1e-3, hidden_l1=0.1,
                              max_norm=2.0,
                              kl_sparsity={"weight": 0.1, "target": 0.2})
    copy_out, copy_regs = pickle.loads(pickle.dumps((out, regs)))
    copy_in = regkit.get_all_layers(copy_out)[0]
    assert [type(r) for r in copy_regs] == [type(r) for r in regs]
    assert [r.get_config() for r in copy_regs] == [r.get_config()
                                                    for r in regs]
    x = np.random.default_rng(0).normal(size=(4, 5)).astype(backend.floatX)

    def values(l_in, out, regs):
        outputs = get_outputs(out, regularizers=regs)
        return backend.function([l_in.input_var], [
            outputs["out:out"], regkit.total_penalty(regs, out, outputs)])(x)

    for original, restored in zip(values(l_in, out, regs),
                                  values(copy_in, copy_out, copy_regs)):
        np.testing.assert_array_equal(original, restored)
    # the copy owns its own parameters
    assert copy_out.W is not out.W


# ---------------------------------------------------------- security --

def test_deserialize_never_imports_or_evaluates(monkeypatch):
    import builtins

    calls = []
    real_import = builtins.__import__

    def spy_import(name, *args, **kwargs):
        calls.append(("import", name))
        return real_import(name, *args, **kwargs)

    def forbidden(*args, **kwargs):
        calls.append(("eval", args))
        raise AssertionError("deserialize evaluated its input")

    monkeypatch.setattr(builtins, "__import__", spy_import)
    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    hostile = ["os.system", "subprocess:run", "__import__('os')",
               "builtins.eval", "regkit.backend.shared", "posix"]
    for name in hostile:
        with pytest.raises(ValueError, match="not a registered"):
            regkit.deserialize({"name": name, "config": {}})
    # a registered name with a hostile config value: the value stays data
    reg = regkit.deserialize({"name": "weight_l2", "config": {
        "pattern": "__import__('os').system('true')", "weight": 0.1}})
    assert reg.pattern == "__import__('os').system('true')"
    monkeypatch.undo()
    assert not [c for c in calls if c[0] == "eval"]
    assert not [c for c in calls if c[0] == "import"
                and c[1].split(".")[0] in ("os", "subprocess", "posix")]
