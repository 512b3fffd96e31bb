"""`python -m mlib.train --help` is complete, and the knobs a researcher tunes are options or --config values."""

import json

import pytest

from mlib.train_cli import build_parser, parse_args, resolved_setup


def test_every_option_has_help_and_shows_its_default(capsys):
    ap = build_parser()
    for action in ap._actions:
        assert action.help, f"{action.option_strings} has no help text"
    with pytest.raises(SystemExit):
        ap.parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())  # whatever the terminal width wrapped
    for option in ("--lr", "--set-size", "--lambda-c", "--lambda-g", "--lambda-m", "--precision", "--threads"):
        assert option in text
    assert "--ckpt-every" in text and "--config FILE" in text and "(default: data_cache)" in text


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_options_come_from_a_config_file_and_the_command_line_wins(tmp_path, suffix):
    pytest.importorskip("tomllib") if suffix == ".toml" else None
    file = tmp_path / f"settings{suffix}"
    if suffix == ".json":
        file.write_text(json.dumps({"lr": 0.002, "lambda-g": 0.5, "set_size": 4, "out": str(tmp_path / "run")}))
    else:
        file.write_text(f'lr = 0.002\nlambda-g = 0.5\nset_size = 4\nout = "{tmp_path / "run"}"\n')
    args = parse_args(["--preset", "ci", "--config", str(file), "--set-size", "8", "--ckpt-every", "7"])
    cfg = resolved_setup(args).train
    assert (cfg.base_lr, cfg.weights.lambda_g, cfg.set_size, cfg.ckpt_every) == (0.002, 0.5, 8, 7)
    assert cfg.weights.lambda_c == resolved_setup(parse_args(["--preset", "ci", "--out", "x"])).train.weights.lambda_c


def test_an_unknown_config_name_is_a_one_line_error(tmp_path):
    file = tmp_path / "settings.json"
    file.write_text(json.dumps({"learning_rate": 0.1}))
    with pytest.raises(SystemExit, match=r"^error: .*settings.json: unknown option 'learning_rate' — "):
        parse_args(["--config", str(file), "--out", str(tmp_path / "run")])


@pytest.mark.parametrize(
    "key, value, problem",
    [
        ("stage1_iters", 20.5, "but it must be a whole number"),
        ("stage2_iters", "20", "but it must be a whole number"),
        ("no_tensorboard", "false", "but it must be true or false"),
        ("corr-trains-encoder", 1, "but it must be true or false"),
        ("lr", True, "but it must be a number"),
        ("variant", "fulll", "but it must be one of "),
        ("out", 5, "but it must be a string"),
        ("frames", 0, "but it must be at least 1"),
        ("lr", 0, "but it must be above 0"),
        ("lambda_g", -0.5, "but it must be at least 0"),
        ("n_labeled", 0, "but it must be a whole number of at least 1, or all"),
        ("n_labeled", "some", "but it must be a whole number of at least 1, or all"),
    ],
)
def test_a_config_value_of_the_wrong_type_or_range_is_a_one_line_error(tmp_path, key, value, problem):
    file = tmp_path / "settings.json"
    file.write_text(json.dumps({"out": str(tmp_path / "run"), key: value}))
    with pytest.raises(SystemExit) as exit_:
        parse_args(["--config", str(file)])
    message = str(exit_.value.code)
    assert message.startswith(f"error: {file}: {key!r} is {json.dumps(value)}, {problem}")
    assert message.endswith(" — fix its value in the file") and "\n" not in message
    assert not (tmp_path / "run").exists()


def test_good_config_values_pass_as_given(tmp_path):
    file = tmp_path / "settings.json"
    values = {"stage1_iters": 20, "lr": 1, "no_tensorboard": False, "n_labeled": "all", "eval_every": 0}
    file.write_text(json.dumps({"out": str(tmp_path / "run"), **values}))
    args = parse_args(["--config", str(file)])
    assert {k: getattr(args, k) for k in values} == values


@pytest.mark.parametrize(
    "option, value, problem",
    [
        ("--frames", "0", "must be at least 1"),
        ("--test-frames", "-3", "must be at least 1"),
        ("--stage2-iters", "0", "must be at least 1"),
        ("--n-labeled", "abc", "must be a whole number of at least 1, or all"),
        ("--n-labeled", "0", "must be a whole number of at least 1, or all"),
        ("--lr", "nan", "must be a finite number"),
        ("--lr", "0.0", "must be above 0"),
        ("--threads", "0", "must be at least 1"),
    ],
)
def test_an_option_out_of_range_is_refused_naming_it_before_anything_is_written(tmp_path, option, value, problem):
    from mlib.train_cli import main

    args = ["--preset", "ci", "--out", str(tmp_path / "run"), "--data-dir", str(tmp_path / "cache"), "--device", "cpu"]
    with pytest.raises(SystemExit) as exit_:
        main([*args, option, value])
    assert str(exit_.value.code) == f"error: {option} {value}: {problem} — give {option} a value in that range"
    assert not (tmp_path / "run").exists() and not (tmp_path / "cache").exists()
