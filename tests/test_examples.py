"""The example scripts run and do what they claim."""
import os
import runpy

import numpy as np

import pytest

EXAMPLES = os.path.join(os.path.dirname(__file__), os.pardir, "examples")


def test_quickstart_loss_decreases(capsys):
    module = runpy.run_path(os.path.join(EXAMPLES, "quickstart.py"))
    module["main"](["--steps", "60"])
    out = capsys.readouterr().out
    first, last = [float(v) for v in
                   out.strip().splitlines()[-1].split()[-3::2]]
    assert last < first


def test_quickstart_rejects_bad_arguments():
    module = runpy.run_path(os.path.join(EXAMPLES, "quickstart.py"))
    with pytest.raises(SystemExit):
        module["main"](["--steps", "many"])


def test_readme_code_runs():
    import re

    import numpy as np

    readme = os.path.join(os.path.dirname(__file__), os.pardir, "README.md")
    with open(readme, encoding="utf-8") as handle:
        blocks = re.findall(r"```python\n(.*?)```", handle.read(), re.S)
    assert len(blocks) >= 2
    namespace = {}
    for block in blocks:
        exec(block, namespace)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 784)).astype(namespace["backend"].floatX)
    Y = np.arange(8).astype("int32")
    first = float(namespace["train"](X, Y))
    for _ in range(5):
        last = float(namespace["train"](X, Y))
    assert np.isfinite(first) and last < first


def test_penalty_figure_script_shows_what_the_docs_say():
    script = os.path.join(os.path.dirname(__file__), os.pardir, "docs",
                          "penalty_shapes.py")
    module = runpy.run_path(script)
    x, y, _ = module["make_data"]()
    trained = {title: module["train"](penalty, coefficient, kwargs, x, y,
                                      steps=400)
               for title, penalty, coefficient, kwargs in module["SETUPS"]
               if title in ("none", "l2", "group_lasso", "spectral_norm",
                            "l2_sp")}
    import numpy as np

    def irrelevant(w):  # mean |w| on the 10 inputs that do not matter
        return np.abs(w[6:]).mean()

    assert irrelevant(trained["group_lasso"]) < 0.2 * irrelevant(
        trained["none"])
    assert (trained["l2"] ** 2).sum() < (trained["none"] ** 2).sum()

    def top_singular_value(w):
        return np.linalg.svd(w, compute_uv=False)[0]
    assert top_singular_value(trained["spectral_norm"]) < 0.95 * \
        top_singular_value(trained["none"])
    # L2-SP stays nearer its start than plain L2 does
    start = module["pretrained"](steps=400)
    assert np.abs(trained["l2_sp"] - start).mean() < np.abs(
        trained["l2"] - start).mean()


def _digits():
    # the demo's own dependencies (the "demo" extra) are optional
    for module in ("sklearn", "matplotlib", "tqdm"):
        pytest.importorskip(module, reason="the digits demo needs %s (pip "
                            "install \".[pytensor,demo]\" in the clone)" % module)
    return runpy.run_path(os.path.join(EXAMPLES, "digits.py"))


@pytest.mark.slow
def test_digits_demo_table_figure_and_determinism(tmp_path, capsys):
    module = _digits()
    png = tmp_path / "figure.png"
    args = ["--epochs", "3", "--train-size", "120", "--no-progress",
            "--output", str(png), "--setups", "none", "weight_l2",
            "max_norm", "l2+dropout+max_norm"]
    first = module["main"](args)
    out = capsys.readouterr().out
    assert png.stat().st_size > 10000
    assert "figure: %s" % png in out
    rows = [line for line in out.splitlines() if line.startswith("| ")]
    assert [row.split("|")[1].strip() for row in rows[1:]] == [
        "none", "weight_l2", "max_norm", "l2+dropout+max_norm"]
    assert "test acc" in rows[0] and "near-zero weights" in rows[0]
    # the same seed gives the same numbers; the penalty shrinks the weights
    again = _digits()["main"](args)
    for name in first:
        assert first[name]["curves"] == again[name]["curves"]
        assert first[name]["test_acc"] == again[name]["test_acc"]
    assert first["weight_l2"]["weight_norm"] < first["none"]["weight_norm"]
    assert 0.0 <= first["none"]["near_zero"] <= 1.0


def test_digits_demo_audits_logs_each_term_and_warms_up(tmp_path, capsys):
    module = _digits()
    args = ["--epochs", "3", "--train-size", "120", "--no-progress",
            "--output", str(tmp_path / "figure.png"), "--setups",
            "l2+dropout+max_norm", "l2_warmup", "elastic_net"]
    results = module["main"](args)
    out = capsys.readouterr().out
    # the audit of the combined setup, once, before training
    assert out.count("audit of l2+dropout+max_norm:") == 1
    assert "hid1.W     64x256" in out and "weight_l2 0.0005; max_norm 1" in out
    assert "hid1:out  hidden  bernoulli_dropout" in out
    # each penalty term per epoch; the warm-up's weight is 0 at epoch 0
    # and grows linearly (Linear(0, 1e-3, 20), the step is the epoch)
    terms = results["l2_warmup"]["curves"]["terms"]
    assert list(terms) == ["weight_l2"] and len(terms["weight_l2"]) == 3
    assert terms["weight_l2"][0] == 0.0
    assert 0 < terms["weight_l2"][1] < terms["weight_l2"][2]
    full = results["l2+dropout+max_norm"]["curves"]["terms"]["weight_l2"]
    assert all(value > 0 for value in full)
    assert list(results["elastic_net"]["curves"]["terms"]) == ["elastic_net"]


def test_digits_rejects_bad_arguments():
    module = _digits()
    for args in (["--epochs", "0"], ["--train-size", "5"],
                 ["--setups", "unknown"]):
        with pytest.raises(SystemExit):
            module["main"](args + ["--no-progress"])


def test_digits_prints_one_progress_line_per_setup_off_a_terminal(
        tmp_path, capsys):
    # under pytest standard error is not a terminal: no bar, one line each
    args = ["--epochs", "2", "--train-size", "120", "--output",
            str(tmp_path / "figure.png"), "--setups", "none", "weight_l1"]
    results = _digits()["main"](args)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2, lines
    for line, name in zip(lines, ["none", "weight_l1"]):
        assert line.startswith(name + " ")
        assert "2 epochs in" in line and "\r" not in line
        assert "test loss %.3f" % results[name]["curves"]["test"][-1] in line


@pytest.mark.slow
def test_digits_extra_setups_run_on_request(tmp_path):
    # the newer regularizers are not in the default run, but run when asked
    module = _digits()
    assert "spectral_norm" not in module["SETUPS"]
    # the Python linker: nothing to compile (the demo's C linker is run by
    # the test above; every linker gives the same numbers)
    args = ["--epochs", "2", "--train-size", "60", "--no-progress",
            "--output", str(tmp_path / "figure.png"), "--linker",
            "FAST_COMPILE", "--setups",
            "l2_sp", "spectral_norm", "drop_connect", "confidence_penalty"]
    results = module["main"](args)
    assert list(results) == ["l2_sp", "spectral_norm", "drop_connect",
                             "confidence_penalty"]
    for result in results.values():
        assert np.isfinite(result["curves"]["train"]).all()


def test_orthogonal_example_keeps_the_layers_orthogonal(tmp_path, capsys):
    pytest.importorskip("matplotlib", reason="the example draws a figure")
    module = runpy.run_path(os.path.join(EXAMPLES, "orthogonal.py"))
    output = str(tmp_path / "orthogonal.png")
    results = module["main"](["--depth", "3", "--steps", "5",
                              "--output", output])
    assert os.path.getsize(output) > 0
    assert "wrote" in capsys.readouterr().out
    for setup in ("cayley", "householder"):
        losses, gaps = results[setup]
        assert len(losses) == 5 and max(gaps) < 1e-12
    assert results["plain"][1][-1] > 1e-6  # plain SGD leaves orthogonality
