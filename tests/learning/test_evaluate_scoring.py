"""`manage.py evaluate_scoring`: any CSV with an outcome column, bad input refused clearly,
never a database table touched (these tests have no database access at all)."""

import json
import random

import pytest
from django.core.management import CommandError, call_command


def write_csv(path, *, rows=400, sep=",", seed=3, header=None):
    rng = random.Random(seed)
    lines = [sep.join(header or ["segment", "size", "colour", "signed_on", "outcome"])]
    for i in range(rows):
        segment = rng.choice(["smb", "mid", "enterprise"])
        size = rng.randint(1, 5000)
        p = {"smb": 0.15, "mid": 0.4, "enterprise": 0.7}[segment]
        outcome = "won" if rng.random() < p else "lost"
        lines.append(sep.join([segment, str(size), rng.choice(["red", "blue"]), f"2024-01-{i % 28 + 1:02d}", outcome]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(*args):
    from io import StringIO

    out = StringIO()
    call_command("evaluate_scoring", *args, stdout=out)
    return out.getvalue()


def test_any_lead_csv_is_evaluated_and_the_last_line_is_one_json_object(tmp_path):
    path = write_csv(tmp_path / "leads.csv")
    output = run(str(path), "--target", "outcome", "--positive", "won", "--exclude", "signed_on", "--time-order")
    result = json.loads(output.strip().splitlines()[-1])
    for key in ("bench", "rows", "auc_random", "auc_time", "baseline_nb_auc_random", "baseline_nb_auc_time", "seconds"):
        assert key in result
    assert result["bench"] == "evaluate_scoring" and result["rows"] == 400
    assert result["auc_random"] > 0.65 and result["auc_time"] > 0.65
    assert result["excluded"] == ["signed_on"]


def test_without_time_order_there_is_no_time_figure(tmp_path):
    path = write_csv(tmp_path / "leads.csv", sep=";")
    result = json.loads(run(str(path), "--target", "outcome", "--positive", "won", "--sep", ";").splitlines()[-1])
    assert result["auc_time"] is None and result["auc_random"] is not None


@pytest.mark.parametrize(
    "setup, args, message",
    [
        (lambda p: None, ["--target", "outcome", "--positive", "won"], "no such file"),
        (lambda p: p.write_text(""), ["--target", "outcome", "--positive", "won"], "the file is empty"),
        (
            lambda p: p.write_bytes("segment,outcome\ncaf\xe9,won\n".encode("latin-1")),
            ["--target", "outcome", "--positive", "won"],
            "line 2 is not valid utf-8-sig",
        ),
        (lambda p: write_csv(p), ["--target", "result", "--positive", "won"], "no target column 'result'"),
        (lambda p: write_csv(p, sep=";"), ["--target", "outcome", "--positive", "won"], "pass --sep ';'"),
        (lambda p: write_csv(p), ["--target", "outcome", "--positive", "yes"], "no row has outcome = 'yes'"),
        (lambda p: write_csv(p, rows=12), ["--target", "outcome", "--positive", "won"], "too few outcomes"),
        (
            lambda p: write_csv(p),
            ["--target", "outcome", "--positive", "won", "--exclude", "duration"],
            "--exclude names unknown column(s): duration",
        ),
        (
            lambda p: p.write_text("a,b,outcome\n1,2,won\n1,2\n"),
            ["--target", "outcome", "--positive", "won"],
            "line 3 has 2 fields",
        ),
        (
            lambda p: p.write_text("a,a,outcome\n1,2,won\n"),
            ["--target", "outcome", "--positive", "won"],
            "duplicate column",
        ),
        (lambda p: p.write_text("a,outcome\n"), ["--target", "outcome", "--positive", "won"], "no rows"),
        (
            lambda p: write_csv(p),
            ["--target", "outcome", "--positive", "won", "--encoding", "klingon"],
            "unknown encoding",
        ),
        (lambda p: write_csv(p), ["--target", "outcome", "--positive", "won", "--sep", ";;"], "one character"),
    ],
)
def test_bad_input_is_a_clear_command_error(tmp_path, setup, args, message):
    path = tmp_path / "input.csv"
    setup(path)
    with pytest.raises(CommandError) as error:
        run(str(path), *args)
    assert message in str(error.value)


def test_the_text_columns_reference_reads_only_the_text_columns(tmp_path):
    """The outcome follows a numeric column alone: the baseline over every column finds it,
    the reference naive Bayes over the text columns cannot (Odoo's kind reads no numbers)."""
    rng = random.Random(11)
    lines = ["region,employees,outcome"]
    for _ in range(600):
        employees = rng.choice([10, 50, 200, 1000, 5000])
        won = rng.random() < (0.8 if employees >= 1000 else 0.1)
        lines.append(f"{rng.choice(['north', 'south'])},{employees},{'won' if won else 'lost'}")
    path = tmp_path / "numeric_signal.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    output = run(str(path), "--target", "outcome", "--positive", "won")
    result = json.loads(output.splitlines()[-1])
    assert result["baseline_nb_auc_random"] > 0.75
    assert 0.35 < result["reference_nb_text_auc_random"] < 0.65
    assert "naive Bayes on the 1 text columns only" in output


def test_each_time_cut_and_the_gradient_boosting_baseline_are_reported_in_the_same_run(tmp_path):
    path = write_csv(tmp_path / "leads.csv", rows=500)
    args = ["--target", "outcome", "--positive", "won", "--exclude", "signed_on", "--time-order"]
    output = run(str(path), *args, "--time-cut", "0.6", "--time-cut", "0.8")
    result = json.loads(output.strip().splitlines()[-1])
    for cut in ("0.6", "0.8"):
        assert result[f"auc_time_{cut}"] > 0.6 and result[f"baseline_gb_auc_time_{cut}"] > 0.55
        assert f"time {cut} split: learned AUC" in output
    assert "auc_time_0.7" not in result and result["auc_time"] == result["auc_time_0.6"]
    assert result["baseline_gb_auc_random"] > 0.55
    default = json.loads(run(str(path), *args).strip().splitlines()[-1])
    assert default["auc_time_0.7"] == default["auc_time"]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--time-order", "--time-cut", "1.2"], "--time-cut must be between 0 and 1"),
        (["--time-order", "--time-cut", "0"], "--time-cut must be between 0 and 1"),
        (["--time-cut", "0.6"], "--time-cut needs --time-order"),
    ],
)
def test_a_bad_time_cut_is_a_clear_command_error(tmp_path, extra, message):
    path = write_csv(tmp_path / "leads.csv")
    with pytest.raises(CommandError) as error:
        run(str(path), "--target", "outcome", "--positive", "won", *extra)
    assert message in str(error.value)
