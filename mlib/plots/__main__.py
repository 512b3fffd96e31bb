"""`python -m mlib.plots --gt GT.txt PRED.txt [PRED.txt ...] --out OUT.png`: success-rate curves and
per-joint errors of prediction files."""

from mlib.plots.evaluation import main

if __name__ == "__main__":
    raise SystemExit(main())
