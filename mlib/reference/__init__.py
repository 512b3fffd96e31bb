"""Committed results the claims compare with, shipped inside the package so an installed `mlib` has
them too: copies of `benchmarks/results/ablation-laptop.json`, `regime-laptop.json`,
`mechanisms-laptop.json`, `ablation-laptop-default/ablation-laptop.json` (as `ablation-laptop-default.json`:
n = 10 and 100 under this code's defaults), `latents-laptop.json` (notebook 03's latent measures on three seeds) and the NYU sensor statistics `sensor-stats-laptop*.json`, which the benchmarks write (tests/test_claims.py checks the
copies match). Read them with
`mlib.claims.committed_results(name)` or `mlib.claims.expected(key, name)`."""
