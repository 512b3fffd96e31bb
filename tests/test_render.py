"""The ray caster against independent geometry: spheres, capsules, rectangles, shadows."""

import numpy as np

from mlib.data.camera import uvd_to_xyz, xyz_to_uvd
from mlib.data.procedural.render import _capsule_t, capsule_boxes, cast, occluded, rays


def _grid(u0: int, u1: int, v0: int, v1: int):
    v, u = np.mgrid[v0:v1, u0:u1]
    return u[None].astype(np.int64), v[None].astype(np.int64)


def _cast(caps, u, v, rects=None):
    return cast(np.asarray(caps, float)[None], u + 0.5, v + 0.5, None if rects is None else np.asarray(rects)[None])


def test_sphere_depth_is_analytic():
    c, r = np.array([30.0, -20.0, 700.0]), 40.0
    uc, vc, _ = xyz_to_uvd(c)
    u, v = _grid(int(uc) - 45, int(uc) + 45, int(vc) - 45, int(vc) + 45)
    hits = _cast([[*c, *c, r]], u, v)
    # Independent route: unit ray n, closest approach of the centre, then back to depth z.
    d = rays(u + 0.5, v + 0.5)
    n = d / np.linalg.norm(d, axis=0)
    tc = np.einsum("i...,i->...", n, c)
    miss2 = c @ c - tc**2
    inside = miss2 < r**2 - 1.0
    expected = (tc - np.sqrt(np.maximum(r**2 - miss2, 0))) * n[2]
    assert inside.sum() > 3000
    np.testing.assert_allclose(hits.depth[inside], expected[inside], atol=0.5)
    assert np.isinf(hits.depth[miss2 > r**2 + 1.0]).all()
    # the nearest point faces the camera: depth = |c| - r along the centre's ray
    assert abs(hits.depth.min() - (np.linalg.norm(c) - r) * c[2] / np.linalg.norm(c)) < 0.5
    # normals: (p - c) / r, pointing at the camera
    p = hits.depth * d
    normal = (p - c[:, None, None, None]) / r
    np.testing.assert_allclose(hits.normal[:, inside], normal[:, inside], atol=1e-6)


def _capsule_sdf(p, a, b, r):
    ba = b - a
    s = np.clip(np.einsum("...i,i->...", p - a, ba) / (ba @ ba), 0, 1)
    return np.linalg.norm(p - a - s[..., None] * ba, axis=-1) - r


def test_capsule_depth_matches_bisection_on_distance_field():
    a, b, r = np.array([-60.0, 10.0, 800.0]), np.array([50.0, -30.0, 730.0]), 25.0
    u, v = _grid(230, 420, 170, 300)
    u, v = u[:, ::2, ::2], v[:, ::2, ::2]
    hits = _cast([[*a, *b, r]], u, v)
    d = np.moveaxis(rays(u + 0.5, v + 0.5)[:, 0], 0, -1)  # (H, W, 3)
    # March along each ray in 0.5 mm steps, then bisect the first sign change.
    ts = np.arange(650.0, 850.0, 0.5)
    sdf = _capsule_sdf(d[..., None, :] * ts[:, None], a, b, r)
    hit = (sdf < 0).any(-1)
    first = np.argmax(sdf < 0, axis=-1)
    lo, hi = ts[np.maximum(first - 1, 0)], ts[first]
    for _ in range(40):
        mid = (lo + hi) / 2
        neg = _capsule_sdf(d * mid[..., None], a, b, r) < 0
        hi, lo = np.where(neg, mid, hi), np.where(neg, lo, mid)
    both = hit & np.isfinite(hits.depth[0])
    assert both.sum() > 1000
    np.testing.assert_allclose(hits.depth[0][both], hi[both], atol=0.5)
    # hit/miss agree except possibly on grazing silhouette rays
    assert (hit != np.isfinite(hits.depth[0])).sum() <= 0.002 * hit.size
    # the cylinder's nearest generator line and the caps are all there: end caps reach r beyond a and b
    ua, _, _ = xyz_to_uvd(a - np.array([r - 1.0, 0, 0]))
    assert np.isfinite(_cast([[*a, *b, r]], np.array([[[int(ua)]]]), np.array([[[int(xyz_to_uvd(a)[1])]]])).depth).all()


def test_nearest_of_overlapping_primitives_and_rectangle():
    sphere = [0.0, 0.0, 700.0, 0.0, 0.0, 700.0, 30.0]
    capsule = [-50.0, 0.0, 720.0, 50.0, 0.0, 720.0, 15.0]
    # a wall at z = 1000 tilted about y, bounded to 400 x 300 mm
    t = np.radians(20)
    normal, e1 = [-np.sin(t), 0, -np.cos(t)], [np.cos(t), 0, -np.sin(t)]
    wall = [0.0, 0.0, 1000.0, *normal, *e1, 0.0, 1.0, 0.0, 200.0, 150.0]
    u, v = _grid(0, 640, 0, 480)
    hits = _cast([sphere, capsule], u, v, [wall])
    centre = hits.depth[0, 240, 320]
    assert abs(centre - 670.0) < 0.5 and hits.prim[0, 240, 320] == 0
    assert abs(hits.depth[0, 240, 350] - 705.0) < 0.1 and hits.prim[0, 240, 350] == 1  # capsule beside the sphere
    # wall pixels: the plane's analytic depth, inside its bounds only
    d = rays(u + 0.5, v + 0.5)[:, 0]
    depth = 1000.0 * np.cos(t) / (-(normal[0] * d[0] + normal[2] * d[2]))
    p = depth * d - np.array([0, 0, 1000.0])[:, None, None]
    in_rect = (np.abs(np.einsum("ihw,i->hw", p, e1)) < 199) & (np.abs(p[1]) < 149)
    wall_px = hits.prim[0] == 2
    assert wall_px.sum() > 10000
    np.testing.assert_allclose(hits.depth[0][wall_px], depth[wall_px], atol=1e-6)
    assert (wall_px | ~in_rect | (hits.prim[0] < 2)).all()
    assert np.isinf(hits.depth[0][hits.prim[0] == -1]).all()
    np.testing.assert_allclose(hits.normal[:, 0][:, wall_px].mean(1), normal, atol=1e-9)


def test_culling_is_conservative():
    """Tile culling (boxes and stadiums) gives exactly the brute-force result, and boxes contain projections."""
    rng = np.random.default_rng(0)
    caps = np.concatenate(
        [rng.uniform(-150, 150, (50, 3)) + [0, 0, 750], rng.uniform(-150, 150, (50, 3)) + [0, 0, 750]], 1
    )
    caps = np.concatenate([caps, rng.uniform(5, 40, (50, 1))], 1)
    boxes = capsule_boxes(caps[None])[0]
    u, v = _grid(0, 640, 0, 480)
    d = rays(u + 0.5, v + 0.5).reshape(3, 1, -1)
    with np.errstate(invalid="ignore", divide="ignore"):
        brute = np.min([_capsule_t(d, caps[k : k + 1]) for k in range(len(caps))], axis=0).reshape(u.shape)
    np.testing.assert_array_equal(_cast(caps, u, v).depth, brute)
    for k in range(len(caps)):
        hits = _cast(caps[k : k + 1], u, v)
        vv, uu = np.nonzero(np.isfinite(hits.depth[0]))
        if len(uu):
            assert uu.min() + 0.5 >= boxes[k, 0] and uu.max() + 0.5 <= boxes[k, 1]
            assert vv.min() + 0.5 >= boxes[k, 2] and vv.max() + 0.5 <= boxes[k, 3]


def test_occlusion_towards_projector():
    blocker = np.array([[[-20.0, 0.0, 600.0, -20.0, 0.0, 600.0, 20.0]]])
    projector = np.array([-75.0, 0.0, 0.0])
    # points on a wall at z = 900: the one on the line from the projector through the blocker is in shadow
    shadowed = projector + (np.array([-20.0, 0.0, 600.0]) - projector) * 1.5
    lit = np.array([60.0, 0.0, 900.0])
    pts = np.stack([shadowed, lit])  # (2, 3)
    uvd = xyz_to_uvd(pts)
    uc, vc = uvd[None, None, :, 0], uvd[None, None, :, 1]
    origin = np.moveaxis(uvd_to_xyz(uvd), -1, 0)[:, None, None, :]
    np.testing.assert_array_equal(occluded(blocker, origin, projector, uc, vc)[0, 0], [True, False])
    # a projector on the other side casts the shadow elsewhere
    assert not occluded(blocker, origin, -projector, uc, vc)[0, 0, 0]
