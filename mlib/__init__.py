"""MURAUER (Poier et al., WACV 2019) as a small library: semi-supervised 3D hand pose from depth.

    from mlib import Experiment, evaluate_store
    exp = Experiment.open("ci", run_dir="runs/ci")   # data, model and training settings of a preset
    res = exp.cell("full", 100)                      # stage 1, then stage 2 with 100 labeled real frames
    evaluate_store(exp.model(res), exp.test)["mean"] # mean joint error (mm) on the real test frames

The names below are the public API; each is imported from its module on first use, so `import mlib`
stays cheap and `python -m mlib.train` does not import the module it runs twice.
"""

API = {
    "resolve": "mlib.presets",
    "load_splits": "mlib.data",
    "Murauer": "mlib.models",
    "ModelConfig": "mlib.models",
    "LossWeights": "mlib.losses",
    "TrainConfig": "mlib.train",
    "VARIANTS": "mlib.variants",
    "Trainer": "mlib.train",
    "load_trained_model": "mlib.checkpoint",
    "Experiment": "mlib.experiment",
    "predict_store": "mlib.evaluate",
    "evaluate_store": "mlib.evaluate",
    "summarize": "mlib.evaluate",
    "compare": "mlib.claims",
    "judge": "mlib.claims",
}
__all__ = list(API)


def __getattr__(name: str):
    if name in API:
        import importlib

        return getattr(importlib.import_module(API[name]), name)
    raise AttributeError(f"module 'mlib' has no attribute {name!r}")
