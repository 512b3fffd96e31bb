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
