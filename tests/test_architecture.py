"""ARCHITECTURE.md names modules that exist, and names every module of mlib."""

import importlib
import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def named(text: str) -> set[str]:
    """Every `mlib...` name in backticks (a module, or a module and an attribute); a call's arguments dropped."""
    return {m.split("(")[0] for m in re.findall(r"`(mlib(?:\.[A-Za-z_][A-Za-z0-9_]*)*)[^`]*`", text)}


def resolves(name: str) -> bool:
    parts = name.split(".")
    for i in range(len(parts), 0, -1):  # the longest prefix that is a module, then attributes
        module = ".".join(parts[:i])
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:  # a parent that is a module, not a package
            found = False
        if found:
            obj = importlib.import_module(module)
            for attr in parts[i:]:
                if not hasattr(obj, attr):
                    return False
                obj = getattr(obj, attr)
            return True
    return False


def test_named_finds_modules_and_attributes():
    assert named("`mlib.train.Trainer.run` and `mlib.presets.resolve(preset)`, not `load_data`") == {
        "mlib.train.Trainer.run",
        "mlib.presets.resolve",
    }
    assert resolves("mlib.train.Trainer.run") and not resolves("mlib.train.NoSuchThing")
    assert not resolves("mlib.no_such_module")


def test_every_module_named_exists():
    names = named((ROOT / "ARCHITECTURE.md").read_text())
    assert len(names) > 20
    missing = sorted(n for n in names if not resolves(n))
    assert not missing, f"ARCHITECTURE.md names what does not exist: {missing}"


def test_every_module_is_named():
    text = (ROOT / "ARCHITECTURE.md").read_text()
    names = named(text)
    # a submodule listed in parentheses after its package, e.g. `mlib.data.procedural` (`hand`, `render`)
    short = set(re.findall(r"`([a-z_]+)`", text))
    unnamed = []
    for path in sorted((ROOT / "mlib").rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        module = ".".join(parts)
        if module == "mlib" or module in names or any(n.startswith(module + ".") for n in names):
            continue
        if ".".join(parts[:-1]) in names and parts[-1] in short:
            continue
        unnamed.append(module)
    assert not unnamed, f"modules ARCHITECTURE.md does not name: {unnamed}"
