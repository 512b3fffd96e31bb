"""Batched analytic ray casting of capsules and rectangles, in a camera's frame (mm).

A capsule is (a, b, r): all points within r of the segment ab; a sphere is a capsule with
a == b. A rectangle is a bounded plane (centre, normal, two in-plane axes, half sizes);
infinite half sizes make a plane. Rays leave the camera centre through continuous pixel
coordinates (pixel (u, v) covers [u, u+1) x [v, v+1), its centre is u + 0.5, v + 0.5), with
direction (x, y, 1), so a hit's ray parameter is its depth z.

Speed: pixels are grouped in 8x8 tiles, and a capsule is tested only against the tiles
its projected bounding box overlaps (exact tangent bounds of its end spheres). Every
pixel's result is the same arithmetic whichever other pixels are rendered with it, so
rendering a crop's pixels gives exactly the full image's values there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlib.data.camera import NYU, Intrinsics

TILE = 8
PAIR_CHUNK = 1 << 18  # elements per temporary array in the pair loop (cache-sized)


@dataclass
class Hits:
    depth: np.ndarray  # (B, H, W) depth of the nearest hit, inf where the ray hits nothing
    prim: np.ndarray  # (B, H, W) int64: capsule index, n_caps + rectangle index, or -1
    normal: np.ndarray | None  # (3, B, H, W) unit surface normal facing the camera (0 where no hit)


def rays(uc: np.ndarray, vc: np.ndarray, intr: Intrinsics = NYU) -> np.ndarray:
    """Directions (3, ...) through continuous pixel coordinates, z component 1 (as camera.pixel_rays)."""
    return np.stack([(uc - intr.cx) / intr.fx, (intr.cy - vc) / intr.fy, np.ones_like(uc)])


# ---------------------------------------------------------------------------------------------------------------
# Tiles and bounds


def _tiles(x: np.ndarray) -> np.ndarray:
    """(..., B, H, W) -> (..., B, T, TILE*TILE), padding H and W by edge replication."""
    h, w = x.shape[-2:]
    ph, pw = -h % TILE, -w % TILE
    if ph or pw:
        x = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(0, ph), (0, pw)], mode="edge")
    h2, w2 = x.shape[-2:]
    lead = x.shape[:-2]
    x = x.reshape(lead + (h2 // TILE, TILE, w2 // TILE, TILE))
    x = np.moveaxis(x, -3, -2)  # (..., th, tw, TILE, TILE)
    return np.ascontiguousarray(x).reshape(lead + (h2 // TILE * (w2 // TILE), TILE * TILE))


def _untiles(x: np.ndarray, h: int, w: int) -> np.ndarray:
    """Inverse of `_tiles`, cutting the padding."""
    th, tw = -(-h // TILE), -(-w // TILE)
    lead = x.shape[:-2]
    x = x.reshape(lead + (th, tw, TILE, TILE))
    x = np.moveaxis(x, -2, -3).reshape(lead + (th * TILE, tw * TILE))
    return x[..., :h, :w]


def capsule_boxes(caps: np.ndarray, intr: Intrinsics = NYU, margin: float = 1.0) -> np.ndarray:
    """Conservative pixel boxes (B, P, 4) = (u_lo, u_hi, v_lo, v_hi) of capsules' projections.

    The projection of a capsule (convex hull of two spheres) is bounded by its end spheres'
    tangent lines from the camera centre; a capsule reaching the camera plane gets an infinite box.
    """
    ends = np.stack([caps[..., 0:3], caps[..., 3:6]])  # (2, B, P, 3)
    r = caps[..., 6]
    x, y, z = ends[..., 0], ends[..., 1], ends[..., 2]

    def slope_range(lat):
        d = np.hypot(lat, z)
        half = np.arcsin(np.clip(r / np.maximum(d, 1e-9), 0, 1))
        ang = np.arctan2(lat, z)
        return np.tan(ang - half).min(0), np.tan(ang + half).max(0)

    with np.errstate(invalid="ignore"):
        xl, xh = slope_range(x)
        yl, yh = slope_range(y)
    box = np.stack([intr.cx + intr.fx * xl, intr.cx + intr.fx * xh, intr.cy - intr.fy * yh, intr.cy - intr.fy * yl], -1)
    box += np.array([-margin, margin, -margin, margin])
    near = (z - r[None] < 1.0).any(0)
    box[near] = [-np.inf, np.inf, -np.inf, np.inf]
    return box


def capsule_stadiums(caps: np.ndarray, intr: Intrinsics = NYU) -> np.ndarray:
    """(B, P, 5) = projected axis end points (u_a, v_a, u_b, v_b) and a pixel radius R such that the
    capsule's projection lies within R of the projected axis.

    A point s + w (s on the axis, |w| <= r) projects within f r (1 + tan(theta_s)) / (z_s - r) of s's
    projection, theta_s the angle off the optical axis; tan(theta) and 1/z are largest at an end."""
    a, b, r = caps[..., 0:3], caps[..., 3:6], caps[..., 6]
    z_near = np.minimum(a[..., 2], b[..., 2]) - r
    tan = np.maximum(np.hypot(a[..., 0], a[..., 1]) / a[..., 2], np.hypot(b[..., 0], b[..., 1]) / b[..., 2])
    with np.errstate(divide="ignore", invalid="ignore"):
        rad = max(intr.fx, intr.fy) * r * (1 + tan) / z_near
        ends = [intr.cx + intr.fx * a[..., 0] / a[..., 2], intr.cy - intr.fy * a[..., 1] / a[..., 2]]
        ends += [intr.cx + intr.fx * b[..., 0] / b[..., 2], intr.cy - intr.fy * b[..., 1] / b[..., 2]]
    rad = np.where(z_near > 1.0, rad, np.inf)  # reaches the camera plane: no bound
    return np.stack(ends + [rad], -1)


def _near_axis(tile_box: np.ndarray, stadium: np.ndarray) -> np.ndarray:
    """(B, T, P) whether a tile (its centre and half diagonal) comes within a capsule's stadium."""
    cu, cv = (tile_box[..., 0] + tile_box[..., 1]) / 2, (tile_box[..., 2] + tile_box[..., 3]) / 2
    half = np.hypot(tile_box[..., 1] - tile_box[..., 0], tile_box[..., 3] - tile_box[..., 2]) / 2
    st = stadium[:, None]
    au, av, du, dv = st[..., 0], st[..., 1], st[..., 2] - st[..., 0], st[..., 3] - st[..., 1]
    pu, pv = cu[..., None] - au, cv[..., None] - av
    s = np.clip((pu * du + pv * dv) / np.maximum(du * du + dv * dv, 1e-12), 0, 1)
    dist = np.hypot(pu - s * du, pv - s * dv)
    return ~(dist > st[..., 4] + half[..., None] + 1.0)  # NaN (degenerate) counts as near


def _tile_boxes(uc: np.ndarray, vc: np.ndarray) -> np.ndarray:
    """(B, T, 4) pixel boxes of tiled continuous coordinates (B, T, N)."""
    return np.stack([uc.min(-1), uc.max(-1), vc.min(-1), vc.max(-1)], -1)


def _overlap(tile_box: np.ndarray, cap_box: np.ndarray) -> np.ndarray:
    """(B, T, P) whether tile and capsule boxes overlap."""
    t, c = tile_box[:, :, None], cap_box[:, None]
    return (c[..., 0] <= t[..., 1]) & (c[..., 1] >= t[..., 0]) & (c[..., 2] <= t[..., 3]) & (c[..., 3] >= t[..., 2])


# ---------------------------------------------------------------------------------------------------------------
# Intersections


def _capsule_t(d: np.ndarray, cap: np.ndarray, o: np.ndarray | None = None) -> np.ndarray:
    """Entering ray parameter t (K, N) of rays o + t d (d: (3, K, N); o: (3, K, N) or None for the
    camera centre) with one capsule per row (cap: (K, 7)); inf where the ray misses or starts inside.

    Hit the infinite cylinder around the axis; inside the end planes that is the answer,
    otherwise the end sphere on that side is (a ray missing the cylinder misses both spheres).
    A sphere (a == b) makes the cylinder test NaN, which selects the sphere at b == a."""
    a = cap[:, 0:3].T[:, :, None]  # (3, K, 1)
    ba = (cap[:, 3:6] - cap[:, 0:3]).T[:, :, None]
    r2 = (cap[:, 6] ** 2)[:, None]
    dx, dy, dz = d
    oa = -a if o is None else o - a
    baba = ba[0] * ba[0] + ba[1] * ba[1] + ba[2] * ba[2]
    dd = dx * dx + dy * dy + dz * dz
    bard = ba[0] * dx + ba[1] * dy + ba[2] * dz
    rdoa = oa[0] * dx + oa[1] * dy + oa[2] * dz
    baoa = ba[0] * oa[0] + ba[1] * oa[1] + ba[2] * oa[2]
    oaoa = oa[0] * oa[0] + oa[1] * oa[1] + oa[2] * oa[2]
    # Cylinder: |(oa + t d) x ba|^2 = r^2 |ba|^2.
    qa = baba * dd - bard * bard
    qb = baba * rdoa - baoa * bard
    qc = baba * oaoa - baoa * baoa - r2 * baba
    t = (-qb - np.sqrt(qb * qb - qa * qc)) / qa
    y = baoa + t * bard
    on_body = (y > 0) & (y < baba)
    # End sphere: dd t^2 + 2 (oc.d) t + |oc|^2 - r^2 = 0 with oc = oa (y <= 0) or oa - ba.
    cap_a = y <= 0
    rdoc = np.where(cap_a, rdoa, rdoa - bard)
    ococ = np.where(cap_a, oaoa, oaoa - 2 * baoa + baba)
    t_cap = (-rdoc - np.sqrt(rdoc * rdoc - dd * (ococ - r2))) / dd
    t = np.where(on_body, t, t_cap)
    return np.where(t > 0, t, np.inf)  # NaN (miss) > 0 is False


def _pairs_nearest(
    d_t: np.ndarray, caps: np.ndarray, ok: np.ndarray, o_t: np.ndarray | None, stop_at: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest capsule hit per tiled ray over the (frame, tile, capsule) pairs where ok is True.

    d_t, o_t: (3, B, T, N). Returns t (B, T, N) (inf: none) and capsule index (-1: none). With
    stop_at, only whether some hit has t < stop_at matters (shadow rays); ids are then -1."""
    b_, t_, n = d_t.shape[1:]
    best_t = np.full((b_ * t_, n), np.inf)
    best_id = np.full((b_ * t_, n), -1, np.int64)
    bi, ti, pi = np.nonzero(ok)
    step = max(1, PAIR_CHUNK // n)
    with np.errstate(invalid="ignore", divide="ignore"):
        for s in range(0, len(bi), step):
            b, t, p = bi[s : s + step], ti[s : s + step], pi[s : s + step]
            tt = _capsule_t(d_t[:, b, t], caps[b, p], None if o_t is None else o_t[:, b, t])
            key = b * t_ + t
            starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
            tmin = np.minimum.reduceat(tt, starts, axis=0)
            k = key[starts]
            if stop_at is not None:
                best_t[k] = np.minimum(best_t[k], tmin)
                continue
            # Ties go to the highest capsule index, whatever the chunking or culling.
            counts = np.diff(np.r_[starts, len(key)])
            ids = np.where(tt == np.repeat(tmin, counts, axis=0), p[:, None], -1)
            idmax = np.maximum.reduceat(ids, starts, axis=0)
            old_t, old_id = best_t[k], best_id[k]
            take = (tmin < old_t) | ((tmin == old_t) & (idmax > old_id))
            best_t[k] = np.where(take, tmin, old_t)
            best_id[k] = np.where(take, idmax, old_id)
    return best_t.reshape(b_, t_, n), best_id.reshape(b_, t_, n)


def _rect_t(d: np.ndarray, rects: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest rectangle hit (t, index) for camera rays d (3, B, N); rects (B, Q, 14) =
    (centre, normal, axis1, axis2, half1, half2)."""
    best_t = np.full(d.shape[1:], np.inf)
    best_i = np.full(d.shape[1:], -1, np.int64)
    for q in range(rects.shape[1]):
        c, nrm, e1, e2 = (rects[:, q, k : k + 3].T[:, :, None] for k in (0, 3, 6, 9))
        h1, h2 = rects[:, q, 12:13], rects[:, q, 13:14]
        with np.errstate(invalid="ignore", divide="ignore"):
            t = (nrm[0] * c[0] + nrm[1] * c[1] + nrm[2] * c[2]) / (nrm[0] * d[0] + nrm[1] * d[1] + nrm[2] * d[2])
            px, py, pz = t * d[0] - c[0], t * d[1] - c[1], t * d[2] - c[2]
            inside = (np.abs(px * e1[0] + py * e1[1] + pz * e1[2]) <= h1) & (
                np.abs(px * e2[0] + py * e2[1] + pz * e2[2]) <= h2
            )
            hit = inside & (t > 0) & (t < best_t)
        best_t = np.where(hit, t, best_t)
        best_i = np.where(hit, q, best_i)
    return best_t, best_i


def cast(
    caps: np.ndarray,
    uc: np.ndarray,
    vc: np.ndarray,
    rects: np.ndarray | None = None,
    normals: bool = True,
    intr: Intrinsics = NYU,
) -> Hits:
    """Nearest hits of camera rays through continuous pixel coordinates uc, vc (B, H, W).

    caps (B, P, 7) and rects (B, Q, 14) in this camera's frame; normals=False leaves Hits.normal None."""
    bsz, h, w = uc.shape
    uc_t, vc_t = _tiles(uc), _tiles(vc)
    d_t = rays(uc_t, vc_t, intr)
    tile_box = _tile_boxes(uc_t, vc_t)
    ok = _overlap(tile_box, capsule_boxes(caps, intr)) & _near_axis(tile_box, capsule_stadiums(caps, intr))
    t, pid = _pairs_nearest(d_t, caps, ok, None, None)
    depth, prim = _untiles(t, h, w), _untiles(pid, h, w)
    d = rays(uc, vc, intr)
    n_caps = caps.shape[1]
    if rects is not None and rects.shape[1]:
        rt, ri = _rect_t(d.reshape(3, bsz, -1), rects)
        rt, ri = rt.reshape(bsz, h, w), ri.reshape(bsz, h, w)
        nearer = rt < depth
        depth, prim = np.where(nearer, rt, depth), np.where(nearer, n_caps + ri, prim)
    if not normals:
        return Hits(depth, prim, None)
    with np.errstate(invalid="ignore"):
        return Hits(depth, prim, surface_normals(caps, rects, prim, np.where(prim >= 0, depth, 0.0) * d, d))


def surface_normals(
    caps: np.ndarray, rects: np.ndarray | None, prim: np.ndarray, p: np.ndarray, d: np.ndarray
) -> np.ndarray:
    """Unit normals (3, B, H, W) at hit points p (3, B, H, W) of primitives `prim`, facing the ray d."""
    bsz, n_caps = caps.shape[:2]
    n = np.zeros(p.shape)
    bidx = np.broadcast_to(np.arange(bsz)[:, None, None], prim.shape)
    on_cap = np.flatnonzero((prim >= 0) & (prim < n_caps))
    if len(on_cap):
        cap = caps.reshape(-1, 7)[bidx.reshape(-1)[on_cap] * n_caps + prim.reshape(-1)[on_cap]].T
        a, ba, r = cap[0:3], cap[3:6] - cap[0:3], cap[6]
        q = p.reshape(3, -1)[:, on_cap] - a
        s = np.clip((q * ba).sum(0) / np.maximum((ba * ba).sum(0), 1e-12), 0, 1)
        n.reshape(3, -1)[:, on_cap] = (q - s * ba) / r
    if rects is not None:
        for q in range(rects.shape[1]):
            n = np.where(prim == n_caps + q, rects[:, q, 3:6].T[:, :, None, None], n)
    n /= np.maximum(np.sqrt((n * n).sum(0)), 1e-12)
    return np.where((n * d).sum(0) > 0, -n, n)  # face the camera (rectangles are two-sided)


def occluded(
    caps: np.ndarray,
    origin: np.ndarray,
    target: np.ndarray,
    uc: np.ndarray,
    vc: np.ndarray,
    active: np.ndarray | None = None,
    intr: Intrinsics = NYU,
) -> np.ndarray:
    """Whether the segment from each origin (3, B, H, W) to the point `target` (3,) crosses a capsule.

    `target` must lie in the camera plane on the x axis (a projector beside the camera): then the
    segment projects onto the origin's image row, running from its pixel (uc, vc) towards u = -inf
    (target x < 0) or +inf, which bounds the capsules that can block it. Tiles without `active`
    pixels are skipped (their result is False)."""
    bsz, h, w = uc.shape
    uc_t, vc_t, o_t = _tiles(uc), _tiles(vc), _tiles(origin)
    act = np.ones(uc_t.shape, bool) if active is None else _tiles(active)
    box = _tile_boxes(uc_t, vc_t) + np.array([-2.0, 2.0, -2.0, 2.0])  # origins sit slightly off their rays
    # A blocker at depth z appears shifted by the disparity f b (1/z - 1/z_origin) from the origin's pixel.
    zo = np.where(act, o_t[2], np.nan)
    zo_lo, zo_hi = np.nanmin(np.where(act, zo, np.inf), -1), np.nanmax(np.where(act, zo, -np.inf), -1)
    z_lo = np.minimum(caps[..., 2], caps[..., 5]) - caps[..., 6]  # (B, P)
    z_hi = np.maximum(caps[..., 2], caps[..., 5]) + caps[..., 6]
    fb = intr.fx * abs(float(target[0]))
    with np.errstate(divide="ignore", invalid="ignore"):
        shift_hi = fb * (1 / np.maximum(z_lo, 1.0)[:, None] - 1 / zo_hi[..., None])  # (B, T, P)
        shift_lo = np.maximum(fb * (1 / z_hi[:, None] - 1 / zo_lo[..., None]), 0.0)
    sign = -1.0 if target[0] < 0 else 1.0
    cb = capsule_boxes(caps, intr)[:, None]  # (B, 1, P, 4)
    lo_u = np.where(sign < 0, box[..., 0:1] - shift_hi, box[..., 0:1] + shift_lo)
    hi_u = np.where(sign < 0, box[..., 1:2] - shift_lo, box[..., 1:2] + shift_hi)
    ok = (cb[..., 0] <= hi_u) & (cb[..., 1] >= lo_u) & (cb[..., 2] <= box[..., 3:4]) & (cb[..., 3] >= box[..., 2:3])
    ok &= (z_lo[:, None] < zo_hi[..., None]) & act.any(-1)[..., None]
    d_t = np.asarray(target, dtype=np.float64)[:, None, None, None] - o_t
    t, _ = _pairs_nearest(d_t, caps, ok, o_t, stop_at=1.0)
    out = _untiles(t < 1.0, h, w)
    return out if active is None else out & active
