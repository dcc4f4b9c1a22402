"""Simulated multi-band galaxy and star cutouts for a labelled demo survey.

Each object is a ``(3, size, size)`` stamp in the Legacy-Survey-like bands
``g, r, z`` at 0.262 arcsec/pixel, in nanomaggies per pixel (AB zeropoint 22.5:
``flux_nmgy = 10**((22.5 - mag) / 2.5)``), sky-subtracted, PSF-convolved and
noisy.  The seven classes of :data:`MORPHOLOGIES` are built from simple
physical ingredients:

* Sersic profiles (``b_n`` from the Ciotti & Bertin 1999 expansion) with
  analytic total-flux normalisation; red de Vaucouleurs-like bulges and bluer
  exponential discs, so bulge-dominated objects are redder in g-r;
* logarithmic spiral arms modulating the disc in its own plane (bluer arms plus
  blue star-forming knots), Ferrers bars with arms leaving the bar ends;
* van der Kruit & Searle edge-on discs (thin + thick) with an optional dust
  lane (band-dependent extinction ``A_g : A_r : A_z = 1.48 : 1 : 0.56``);
* clumpy irregulars, mergers of two galaxies with tidal twist/stretch and
  tails, and stars (PSF only) on a stellar-locus colour sequence, with a faint
  diffraction-spike cross when bright;
* per-object, per-band Gaussian or Moffat PSF (FWHM 1.0-1.6 arcsec in r),
  FFT convolution, unrelated fainter neighbours in ~30 % of stamps, Gaussian
  sky noise plus heteroscedastic source (Poisson-like) noise.

Models are evaluated on a 2x oversampled grid with an 8-pixel margin, binned
to the native pixel grid (exact pixel integration of the model), convolved
with the pixel-sampled PSF and cropped.  Position angles are measured
counter-clockwise from the +x (column) axis of the array; the nominal object
centre is the array centre ``((size - 1) / 2, (size - 1) / 2)`` plus the offset
recorded in the parameters.  Everything is numpy + scipy only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np
from scipy import signal, special

__all__ = ["MORPHOLOGIES", "BANDS", "PIXEL_SCALE_ARCSEC", "render_object", "render_cutouts"]

#: Class labels, in label-index order.
MORPHOLOGIES: tuple[str, ...] = (
    "elliptical", "spiral", "barred_spiral", "edge_on", "irregular", "merger", "star",
)  # fmt: skip
#: Band (channel) order of every cutout.
BANDS: tuple[str, ...] = ("g", "r", "z")
#: Native pixel scale (arcsec / pixel), as the Legacy Surveys.
PIXEL_SCALE_ARCSEC: float = 0.262

_ZEROPOINT = 22.5  # AB mag of 1 nanomaggy
_OS = 2  # oversampling factor of the model grid
_MARGIN = 8  # native pixels rendered beyond each stamp edge
_SOFT2 = (0.25 * PIXEL_SCALE_ARCSEC / _OS) ** 2  # Sersic core softening (arcsec^2)
_MAG_RANGE = (17.0, 21.5)
_NEIGHBOUR_PROB = 0.3
_PSF_LAMBDA = np.array([1.06, 1.0, 0.93])  # seeing ~ lambda^-0.2, relative to r
_EXTINCTION = np.array([3.214, 2.165, 1.211]) / 2.165  # A_b / A_r for DECam g, r, z
_SPIKE_LAMBDA = np.array([0.8, 1.0, 1.3])  # diffraction spikes brighter at long wavelength
_SPIKE_FRACTION = 0.03  # r-band fraction of a bright star's flux in its diffraction spikes
_PARAM_KEYS: tuple[str, ...] = (
    "morphology_id", "mag_r", "flux_r_nmgy", "g_minus_r", "r_minus_z", "x_offset_px", "y_offset_px",
    "r_eff_arcsec", "sersic_n", "axis_ratio", "position_angle_deg",
    "bulge_to_total", "bulge_r_eff_arcsec", "bulge_sersic_n",
    "n_arms", "arm_pitch_deg", "arm_fraction", "bar_length_arcsec", "bar_axis_ratio", "n_knots",
    "dust_tau_r", "merger_separation_arcsec", "merger_flux_ratio", "has_spikes",
    "psf_fwhm_arcsec", "psf_fwhm_g_arcsec", "psf_fwhm_z_arcsec", "psf_moffat_beta",
    "sky_sigma", "sky_sigma_g", "sky_sigma_z", "gain_e_per_nmgy",
    "has_neighbour", "neighbour_mag_r", "neighbour_sep_arcsec", "neighbour_is_star",
)  # fmt: skip

Params = dict[str, float]


class _Ctx:
    """Per-object rendering state on the oversampled grid.

    ``xf`` holds the ``(M,)`` fine-pixel centre coordinates (arcsec, relative
    to the stamp centre; the same vector serves x and y); ``xg``/``yg`` are its
    ``(1, M)``/``(M, 1)`` broadcast views; ``fine`` is the ``(3, M, M)`` model
    in nanomaggies per fine pixel; ``points`` collects point sources
    ``(x_arcsec, y_arcsec, flux_nmgy[3], spikes)`` added after convolution.
    """

    def __init__(self, xf: np.ndarray) -> None:
        self.xf = xf
        self.xg, self.yg = xf[None, :], xf[:, None]
        self.step = float(xf[1] - xf[0])
        self.area = self.step**2
        self.fine = np.zeros((3, xf.size, xf.size), dtype=np.float32)
        self.points: list[tuple[float, float, np.ndarray, bool]] = []


@lru_cache(maxsize=16)
def _axes(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Fine ``(M,)`` and native ``(N,)`` pixel-centre coordinates in arcsec (stamp centre = 0)."""
    n = size + 2 * _MARGIN
    centre = _MARGIN + (size - 1) / 2.0
    fine = (((np.arange(n * _OS) + 0.5) / _OS - 0.5 - centre) * PIXEL_SCALE_ARCSEC).astype(np.float32)
    native = (np.arange(n) - centre) * PIXEL_SCALE_ARCSEC
    return fine, native


def _sersic_b(n: float | np.ndarray) -> float | np.ndarray:
    """``b_n`` such that ``r_eff`` encloses half the light (Ciotti & Bertin 1999), dimensionless."""
    return (2 * n - 1 / 3 + 4 / (405 * n) + 46 / (25515 * n**2) + 131 / (1148175 * n**3)
            - 2194697 / (30690717750 * n**4))  # fmt: skip


def _colour(g_r: float, r_z: float) -> np.ndarray:
    """Flux ratios ``(f_g, f_r, f_z) / f_r``, shape ``(3,)``, for AB colours g-r and r-z (mag)."""
    return np.array([10 ** (-0.4 * g_r), 1.0, 10 ** (0.4 * r_z)], dtype=np.float32)


def _mag(flux: float) -> float:
    return _ZEROPOINT - 2.5 * math.log10(flux)


def _size(rng: np.random.Generator, mag: float, base: float) -> float:
    """Half-light radius (arcsec): ``base`` at r=19, growing 0.1 dex per brighter mag, 0.1 dex scatter."""
    return float(np.clip(base * 10 ** (-0.1 * (mag - 19.0) + rng.normal(0.0, 0.1)), 0.5, 6.0))


def _rot(xg: np.ndarray, yg: np.ndarray, cx: float, cy: float, pa: float) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates along (u) and across (v) a major axis at ``pa`` (rad) through ``(cx, cy)`` (arcsec)."""
    dx, dy = xg - cx, yg - cy
    c, s = math.cos(pa), math.sin(pa)
    return dx * c + dy * s, dy * c - dx * s


def _sersic_map(u: np.ndarray, v: np.ndarray, r_eff: float, n: float, q: float, area: float) -> np.ndarray:
    """Sersic profile as the fraction of the *total* (analytic) flux per pixel of ``area`` arcsec^2.

    ``u, v`` (arcsec) are major/minor-axis coordinates, ``q`` the axis ratio;
    a tiny core softening keeps cuspy high-``n`` profiles finite.
    """
    b = _sersic_b(n)
    r = np.sqrt(u * u + (v / q) ** 2 + _SOFT2)
    lognorm = math.log(area / (2 * math.pi * n * q * r_eff**2)) + 2 * n * math.log(b) - math.lgamma(2 * n)
    return np.exp(lognorm - b * (r / r_eff) ** (1.0 / n))


def _sech2(t: np.ndarray) -> np.ndarray:
    """Overflow-free ``sech(t)**2``."""
    e = np.exp(-2.0 * np.abs(t))
    return 4.0 * e / (1.0 + e) ** 2


def _add(ctx: _Ctx, flux: float, colour: np.ndarray, image: np.ndarray,
         target: np.ndarray | None = None) -> None:  # fmt: skip
    """Add ``flux * colour[b] * image / image.sum()`` (``image`` unnormalised, 2-D) to the 3-band canvas."""
    total = image.sum()
    if total > 0:
        (ctx.fine if target is None else target)[...] += (colour * float(flux / total))[:, None, None] * image


def _add_blobs(ctx: _Ctx, xs: np.ndarray, ys: np.ndarray, sig: np.ndarray, flux3: np.ndarray,
               target: np.ndarray | None = None) -> None:  # fmt: skip
    """Add round Gaussian knots at ``(xs, ys)``, widths ``sig`` (arcsec), fluxes ``flux3`` (k, 3) nmgy."""
    canvas = ctx.fine if target is None else target
    x0, st, m = ctx.xf[0], ctx.step, ctx.xf.size
    for x, y, s, f in zip(xs, ys, sig, flux3, strict=True):
        half = 4.0 * s
        i0, i1 = max(int((y - half - x0) / st), 0), min(int((y + half - x0) / st) + 2, m)
        j0, j1 = max(int((x - half - x0) / st), 0), min(int((x + half - x0) / st) + 2, m)
        if i0 >= i1 or j0 >= j1:
            continue
        wy = np.exp(-0.5 * ((ctx.xf[i0:i1] - y) / s) ** 2)
        wx = np.exp(-0.5 * ((ctx.xf[j0:j1] - x) / s) ** 2)
        canvas[:, i0:i1, j0:j1] += (f * ctx.area / (2 * math.pi * s * s))[:, None, None] * np.outer(wy, wx)


# --------------------------------------------------------------------------- builders
# Each builder adds one object of total r-band flux ``flux`` (nmgy) centred at
# (cx, cy) arcsec to ``ctx``, evaluating smooth profiles at coordinates xg, yg
# (possibly tidally warped), shifting all colours by ``dcol`` = (d(g-r), d(r-z)),
# and writes its true parameters into ``p``.


def _elliptical(rng: np.random.Generator, ctx: _Ctx, cx: float, cy: float, flux: float, p: Params,
                xg: np.ndarray, yg: np.ndarray, dcol: tuple[float, float]) -> None:
    n, q, pa = rng.uniform(3.0, 6.0), rng.uniform(0.6, 1.0), rng.uniform(0, math.pi)
    re = _size(rng, _mag(flux), 1.9)
    col = _colour(rng.normal(0.9, 0.05) + dcol[0], rng.normal(0.5, 0.05) + dcol[1])
    ctx.fine += (flux * col)[:, None, None] * _sersic_map(*_rot(xg, yg, cx, cy, pa), re, n, q, ctx.area)
    p.update(r_eff_arcsec=re, sersic_n=n, axis_ratio=q, position_angle_deg=math.degrees(pa),
             bulge_to_total=1.0, bulge_r_eff_arcsec=re, bulge_sersic_n=n)  # fmt: skip


def _disc(rng: np.random.Generator, ctx: _Ctx, cx: float, cy: float, flux: float, p: Params,
          xg: np.ndarray, yg: np.ndarray, dcol: tuple[float, float], barred: bool = False) -> None:
    re = _size(rng, _mag(flux), 2.8)
    h = re / 1.678  # exponential scale length
    q, pa = rng.uniform(0.45, 1.0), rng.uniform(0, math.pi)
    u, v = _rot(xg, yg, cx, cy, pa)
    bt = rng.uniform(0.03, 0.2) if barred else rng.uniform(0.05, 0.4)
    nb, reb = rng.uniform(2.5, 4.5), re * rng.uniform(0.12, 0.25)
    qb = float(np.clip(1 - 0.35 * (1 - q) + rng.normal(0, 0.04), 0.55, 1.0))
    red = 0.15 * (1 - q)  # inclination reddening of the disc
    gr_d = rng.normal(0.50, 0.06) + red + dcol[0]
    rz_d = rng.normal(0.32, 0.05) + 0.6 * red + dcol[1]
    col_b = _colour(rng.normal(0.82, 0.05) + dcol[0], rng.normal(0.45, 0.05) + dcol[1])
    ctx.fine += (flux * bt * col_b)[:, None, None] * _sersic_map(u, v, reb, nb, qb, ctx.area)
    yd = v / q  # disc-plane coordinates
    rr = np.sqrt(u * u + yd * yd) + 1e-3
    th = np.arctan2(yd, u)
    f_disc = flux * (1 - bt)
    pitch = math.radians(rng.uniform(10, 22) if barred else rng.uniform(12, 28))
    chir = float(rng.choice([-1.0, 1.0]))
    if barred:
        f_bar, a_bar = flux * rng.uniform(0.12, 0.25), re * rng.uniform(0.6, 1.0)
        q_bar, alpha, nf = rng.uniform(0.2, 0.35), rng.uniform(0, math.pi), rng.uniform(0.5, 1.5)
        xb, yb = _rot(u, yd, 0.0, 0.0, alpha)
        bar = np.clip(1 - (xb / a_bar) ** 2 - (yb / (q_bar * a_bar)) ** 2, 0, None) ** nf
        _add(ctx, f_bar, _colour(rng.normal(0.72, 0.05) + dcol[0], rng.normal(0.42, 0.05) + dcol[1]), bar)
        f_disc -= f_bar
        m = int(rng.choice([2, 3, 4], p=[0.8, 0.1, 0.1]))
        r0, th0 = a_bar, alpha
        p.update(bar_length_arcsec=a_bar, bar_axis_ratio=q_bar)
    else:
        m = int(rng.choice([2, 3, 4], p=[0.5, 0.3, 0.2]))
        r0, th0 = re * rng.uniform(0.3, 0.6), rng.uniform(0, 2 * math.pi)
    f_arm, f_knot = rng.uniform(0.55, 0.8), rng.uniform(0.04, 0.1)
    width = rng.uniform(3.0, 7.0)  # larger = narrower arms
    smooth = _sersic_map(u, v, re, 1.0, q, ctx.area)
    ctx.fine += (f_disc * (1 - f_arm - f_knot) * _colour(gr_d, rz_d))[:, None, None] * smooth
    phase = m * (th - th0 - chir * np.log(rr / r0) / math.tan(pitch))
    envelope = np.exp(-rr / (1.3 * h)) * (1 - np.exp(-((rr / (0.9 * r0)) ** 4)))  # arms start near r0
    arms = (0.5 + 0.5 * np.cos(phase)) ** width * envelope
    _add(ctx, f_disc * f_arm, _colour(gr_d - rng.uniform(0.1, 0.25), rz_d - 0.08), arms)
    # star-forming knots strung along the arms, projected like the disc
    k = int(rng.integers(8, 25))
    rk = r0 + rng.gamma(2.0, 0.6 * h, k)
    tk = th0 + 2 * math.pi * rng.integers(0, m, k) / m + chir * np.log(rk / r0) / math.tan(pitch)
    tk = tk + rng.normal(0, 0.12, k)
    uk, vk = rk * np.cos(tk), rk * np.sin(tk) * q
    c, s = math.cos(pa), math.sin(pa)
    wk = rng.gamma(3.0, 1.0, k)
    col_k = _colour(rng.normal(0.12, 0.08) + dcol[0], rng.normal(0.1, 0.06) + dcol[1])
    fk = np.outer(f_disc * f_knot * wk / wk.sum(), col_k)
    _add_blobs(ctx, cx + uk * c - vk * s, cy + uk * s + vk * c, rng.uniform(0.12, 0.3, k), fk)
    p.update(r_eff_arcsec=re, sersic_n=1.0, axis_ratio=q, position_angle_deg=math.degrees(pa),
             bulge_to_total=bt, bulge_r_eff_arcsec=reb, bulge_sersic_n=nb, n_arms=m,
             arm_pitch_deg=math.degrees(pitch), arm_fraction=f_arm, n_knots=k)  # fmt: skip


def _barred(rng: np.random.Generator, ctx: _Ctx, cx: float, cy: float, flux: float, p: Params,
            xg: np.ndarray, yg: np.ndarray, dcol: tuple[float, float]) -> None:
    _disc(rng, ctx, cx, cy, flux, p, xg, yg, dcol, barred=True)


def _edge_on(rng: np.random.Generator, ctx: _Ctx, cx: float, cy: float, flux: float, p: Params,
             xg: np.ndarray, yg: np.ndarray, dcol: tuple[float, float]) -> None:
    re = _size(rng, _mag(flux), 3.0)
    h, q, pa = re / 1.678, rng.uniform(0.1, 0.25), rng.uniform(0, math.pi)
    z0 = 1.7 * q * h  # sech^2 height giving the thin disc a second-moment axis ratio ~ q
    u, v = _rot(xg, yg, cx, cy, pa)
    x = np.maximum(np.abs(u) / h, 1e-6)
    r_trunc = rng.uniform(3.5, 5.0) * h  # disc truncation radius
    radial = x * special.k1(x) * special.expit((r_trunc - np.abs(u)) / (0.3 * h))
    canvas = np.zeros_like(ctx.fine)
    bt, f_thick = rng.uniform(0.0, 0.15), rng.uniform(0.05, 0.2)
    gr, rz = rng.normal(0.58, 0.06) + dcol[0], rng.normal(0.38, 0.05) + dcol[1]
    _add(ctx, flux * (1 - bt) * (1 - f_thick), _colour(gr, rz), radial * _sech2(v / z0), canvas)
    thick = radial * _sech2(v / (2.0 * z0))
    _add(ctx, flux * (1 - bt) * f_thick, _colour(gr + 0.1, rz + 0.05), thick, canvas)
    nb, reb, qb = rng.uniform(1.5, 4.0), re * rng.uniform(0.12, 0.25), rng.uniform(0.55, 0.85)
    col_b = _colour(rng.normal(0.82, 0.05) + dcol[0], rng.normal(0.45, 0.05) + dcol[1])
    canvas += (flux * bt * col_b)[:, None, None] * _sersic_map(u, v, reb, nb, qb, ctx.area)
    tau = 0.0
    if rng.random() < 0.65:  # dust lane: band-dependent extinction along (near) the mid-plane
        tau = rng.uniform(0.4, 1.5)
        w, off = z0 * rng.uniform(0.5, 1.0), z0 * rng.uniform(-0.4, 0.4)
        lane = np.exp(-0.5 * ((v - off) / w) ** 2 - np.abs(u) / (2.0 * h))
        canvas *= np.exp(-tau * _EXTINCTION[:, None, None] * lane[None])
    ctx.fine += canvas
    p.update(r_eff_arcsec=re, sersic_n=1.0, axis_ratio=q, position_angle_deg=math.degrees(pa),
             bulge_to_total=bt, bulge_r_eff_arcsec=reb, bulge_sersic_n=nb, dust_tau_r=tau)  # fmt: skip


def _irregular(rng: np.random.Generator, ctx: _Ctx, cx: float, cy: float, flux: float, p: Params,
               xg: np.ndarray, yg: np.ndarray, dcol: tuple[float, float]) -> None:
    re = _size(rng, _mag(flux), 2.4)
    f_d, q, pa = rng.uniform(0.3, 0.55), rng.uniform(0.4, 1.0), rng.uniform(0, math.pi)
    col_d = _colour(rng.normal(0.42, 0.06) + dcol[0], rng.normal(0.25, 0.06) + dcol[1])
    disc = _sersic_map(*_rot(xg, yg, cx, cy, pa), re, 1.0, q, ctx.area)
    ctx.fine += (flux * f_d * col_d)[:, None, None] * disc
    k = int(rng.integers(4, 15))
    ang, off = rng.uniform(0, 2 * math.pi), re * rng.uniform(0.1, 0.5)  # lopsided knot distribution
    sx, sy = 0.6 * re * rng.uniform(0.6, 1.4, 2)
    ku, kv = rng.normal(0, sx, k), rng.normal(0, sy, k)
    c, s = math.cos(pa), math.sin(pa)
    kx, ky = cx + off * math.cos(ang) + ku * c - kv * s, cy + off * math.sin(ang) + ku * s + kv * c
    w = rng.dirichlet(np.full(k, 1.5)) * flux * (1 - f_d)
    gr_k, rz_k = rng.normal(0.18, 0.1, k) + dcol[0], rng.normal(0.1, 0.08, k) + dcol[1]
    cols = np.array([_colour(a, b) for a, b in zip(gr_k, rz_k, strict=True)])
    _add_blobs(ctx, kx, ky, rng.uniform(0.2, 0.7, k), w[:, None] * cols)
    p.update(r_eff_arcsec=re, sersic_n=1.0, axis_ratio=q, position_angle_deg=math.degrees(pa),
             bulge_to_total=0.0, n_knots=k)  # fmt: skip


def _star(rng: np.random.Generator, ctx: _Ctx, cx: float, cy: float, flux: float, p: Params,
          xg: np.ndarray, yg: np.ndarray, dcol: tuple[float, float]) -> None:
    # bimodal high-latitude stellar locus: halo turn-off stars and M dwarfs
    gr = rng.normal(0.42, 0.12) if rng.random() < 0.55 else rng.uniform(0.55, 1.55)
    rz = 0.42 * gr - 0.03 + 3.0 * max(gr - 1.25, 0.0) + rng.normal(0, 0.04)
    spikes = _mag(flux) < 18.5
    ctx.points.append((cx, cy, flux * _colour(gr, rz), spikes))
    p["has_spikes"] = float(spikes)


def _merger(rng: np.random.Generator, ctx: _Ctx, cx: float, cy: float, flux: float, p: Params,
            xg: np.ndarray, yg: np.ndarray, dcol: tuple[float, float]) -> None:
    ratio = rng.uniform(0.25, 1.0)  # secondary / primary r-band flux
    f1 = flux / (1 + ratio)
    sep, phi = rng.uniform(1.8, 5.0), rng.uniform(0, 2 * math.pi)
    ex, ey = math.cos(phi), math.sin(phi)
    c1 = (cx - ex * sep * ratio / (1 + ratio), cy - ey * sep * ratio / (1 + ratio))
    c2 = (c1[0] + ex * sep, c1[1] + ey * sep)
    chir = float(rng.choice([-1.0, 1.0]))
    kinds = ("elliptical", "spiral", "irregular", "edge_on")
    for i, (px, py), f, sgn in ((0, c1, f1, 1.0), (1, c2, flux - f1, -1.0)):
        kind = kinds[rng.choice(4, p=[0.35, 0.35, 0.15, 0.15])]
        f_tail = f * rng.uniform(0.08, 0.18)
        # tidal warp: isophotes stretched towards the companion and twisted with radius
        dx, dy = xg - px, yg - py
        g = (dx * dx + dy * dy) / rng.uniform(1.5, 3.0) ** 2
        g = g / (1 + g)
        ang = chir * rng.uniform(0.3, 0.9) * g
        ca, sa = np.cos(ang), np.sin(ang)
        dx, dy = dx * ca - dy * sa, dx * sa + dy * ca
        par = (dx * ex + dy * ey) * (1 / (1 + rng.uniform(0.2, 0.6) * g) - 1)
        xw, yw = px + dx + par * ex, py + dy + par * ey
        _BUILDERS[kind](rng, ctx, px, py, f - f_tail, p if i == 0 else {}, xw, yw, dcol)
        # tidal tail: chain of widening Gaussian blobs leaving perpendicular to the pair axis and curving back
        length, n_b = rng.uniform(3.0, 7.0), 28
        s = np.linspace(0.4, length, n_b)
        psi = math.atan2(sgn * ey, sgn * ex) + chir * math.pi / 2 + chir * rng.uniform(0.12, 0.3) * s
        ds = s[1] - s[0]
        tx, ty = px + np.cumsum(np.cos(psi)) * ds, py + np.cumsum(np.sin(psi)) * ds
        wt = np.exp(-s / (0.6 * length))
        col = _colour(rng.normal(0.5, 0.08) + dcol[0], rng.normal(0.3, 0.06) + dcol[1])
        _add_blobs(ctx, tx, ty, rng.uniform(0.35, 0.6) + 0.08 * s, np.outer(f_tail * wt / wt.sum(), col))
    p.update(merger_separation_arcsec=sep, merger_flux_ratio=ratio)


_Builder = Callable[..., None]
_BUILDERS: dict[str, _Builder] = {
    "elliptical": _elliptical, "spiral": _disc, "barred_spiral": _barred, "edge_on": _edge_on,
    "irregular": _irregular, "merger": _merger, "star": _star,
}  # fmt: skip


# --------------------------------------------------------------------------- PSF and noise
def _psf(r2: np.ndarray, fwhm_px: float, beta: float) -> np.ndarray:
    """PSF per native pixel at squared radius ``r2`` (pixel^2); Gaussian if ``beta`` is NaN, else Moffat."""
    if math.isnan(beta):
        sig2 = (fwhm_px / 2.3548) ** 2
        return np.exp(-0.5 * r2 / sig2) / (2 * math.pi * sig2)
    alpha2 = (fwhm_px / (2 * math.sqrt(2 ** (1 / beta) - 1))) ** 2
    return (beta - 1) / (math.pi * alpha2) * (1 + r2 / alpha2) ** (-beta)


def _point_images(ctx: _Ctx, xn: np.ndarray, fwhm_px: np.ndarray, beta: float) -> np.ndarray:
    """``(3, N, N)`` images (nmgy/pixel) of the point sources in ``ctx`` on the native grid."""
    out = np.zeros((3, xn.size, xn.size))
    for x0, y0, f3, spikes in ctx.points:
        dx, dy = (xn[None, :] - x0) / PIXEL_SCALE_ARCSEC, (xn[:, None] - y0) / PIXEL_SCALE_ARCSEC
        r2 = dx * dx + dy * dy
        for b in range(3):
            f_spike = _SPIKE_FRACTION * _SPIKE_LAMBDA[b] if spikes else 0.0
            out[b] += (1 - f_spike) * f3[b] * _psf(r2, fwhm_px[b], beta)
            if spikes:  # faint diffraction cross (part of the PSF): Lorentzian along, Gaussian across
                sig, s0 = fwhm_px[b] / 2.3548, 2.5 * fwhm_px[b]
                along_x = np.exp(-0.5 * (dy / sig) ** 2) / (1 + (dx / s0) ** 2)
                along_y = np.exp(-0.5 * (dx / sig) ** 2) / (1 + (dy / s0) ** 2)
                norm = 2 * math.pi * s0 * math.sqrt(2 * math.pi) * sig
                out[b] += f_spike * f3[b] * (along_x + along_y) / norm
    return out


# --------------------------------------------------------------------------- public API
def _render(morphology: str, rng: np.random.Generator, size: int,
            noise: bool = True) -> tuple[np.ndarray, Params]:  # fmt: skip
    """Render one object; ``noise=False`` returns the noiseless PSF-convolved model (for tests)."""
    if morphology not in _BUILDERS:
        raise ValueError(f"unknown morphology {morphology!r}; expected one of {MORPHOLOGIES}")
    if int(size) != size or size < 16:
        raise ValueError(f"size must be an integer >= 16, got {size!r}")
    size = int(size)
    xf, xn = _axes(size)
    ctx = _Ctx(xf)
    p: Params = dict.fromkeys(_PARAM_KEYS, math.nan)
    mag = _MAG_RANGE[0] + (_MAG_RANGE[1] - _MAG_RANGE[0]) * rng.random() ** 1.3  # mild bright-end skew
    flux = 10 ** ((_ZEROPOINT - mag) / 2.5)
    rad, ang = 2.0 * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
    ox, oy = rad * math.cos(ang), rad * math.sin(ang)
    fwhm_r = rng.uniform(1.0, 1.6)
    fwhm = np.clip(fwhm_r * _PSF_LAMBDA * rng.uniform(0.95, 1.05, 3), 0.8, 2.0)
    fwhm[1] = fwhm_r
    beta = rng.uniform(2.5, 4.5) if rng.random() < 0.6 else math.nan
    sky_r = rng.uniform(0.006, 0.012)
    sky = sky_r * np.array([rng.uniform(0.6, 0.85), 1.0, rng.uniform(2.0, 3.0)])
    gain = rng.uniform(3000.0, 12000.0)
    dcol = tuple(float(d) for d in rng.normal(0.0, 0.04, 2))
    cx, cy = ox * PIXEL_SCALE_ARCSEC, oy * PIXEL_SCALE_ARCSEC
    _BUILDERS[morphology](rng, ctx, cx, cy, flux, p, ctx.xg, ctx.yg, dcol)
    tot = ctx.fine.sum(axis=(1, 2)) + sum((pt[2] for pt in ctx.points), np.zeros(3))
    p.update(morphology_id=MORPHOLOGIES.index(morphology), mag_r=mag, flux_r_nmgy=flux,
             x_offset_px=ox, y_offset_px=oy, g_minus_r=-2.5 * math.log10(tot[0] / tot[1]),
             r_minus_z=-2.5 * math.log10(tot[1] / tot[2]), psf_fwhm_arcsec=fwhm_r,
             psf_fwhm_g_arcsec=fwhm[0], psf_fwhm_z_arcsec=fwhm[2], psf_moffat_beta=beta, sky_sigma=sky_r,
             sky_sigma_g=sky[0], sky_sigma_z=sky[2], gain_e_per_nmgy=gain, has_neighbour=0.0)  # fmt: skip
    if rng.random() < _NEIGHBOUR_PROB:  # unrelated fainter galaxy or star
        kinds = ("elliptical", "spiral", "edge_on", "irregular", "star")
        kind = kinds[rng.choice(5, p=[0.25, 0.2, 0.1, 0.15, 0.3])]
        nb_mag = mag + rng.uniform(0.5, 3.0)
        rho, ang = rng.uniform(12, 30) * PIXEL_SCALE_ARCSEC, rng.uniform(0, 2 * math.pi)
        nb_dcol = tuple(float(d) for d in rng.normal(0.0, 0.12, 2))
        nb_flux = 10 ** ((_ZEROPOINT - nb_mag) / 2.5)
        nx, ny = rho * math.cos(ang), rho * math.sin(ang)
        _BUILDERS[kind](rng, ctx, nx, ny, nb_flux, {}, ctx.xg, ctx.yg, nb_dcol)
        p.update(has_neighbour=1.0, neighbour_mag_r=nb_mag, neighbour_sep_arcsec=rho,
                 neighbour_is_star=float(kind == "star"))
    f = ctx.fine
    native = f[:, 0::2, 0::2] + f[:, 1::2, 0::2] + f[:, 0::2, 1::2] + f[:, 1::2, 1::2]  # _OS == 2
    fwhm_px = fwhm / PIXEL_SCALE_ARCSEC
    half = int(math.ceil(3.5 * fwhm_px.max()))
    k = np.arange(-half, half + 1, dtype=float)
    kr2 = k[None, :] ** 2 + k[:, None] ** 2
    kernel = np.stack([_psf(kr2, fwhm_px[b], beta) for b in range(3)]).astype(np.float32)
    image = signal.fftconvolve(native, kernel, mode="same", axes=(1, 2))
    if ctx.points:
        image += _point_images(ctx, xn, fwhm_px, beta).astype(np.float32)
    image = image[:, _MARGIN : _MARGIN + size, _MARGIN : _MARGIN + size]
    if noise:
        var = (sky**2).astype(np.float32)[:, None, None] + np.clip(image, 0.0, None) / gain
        image = image + rng.standard_normal(image.shape, dtype=np.float32) * np.sqrt(var)
    return image.astype(np.float32), {key: float(val) for key, val in p.items()}


def render_object(
    morphology: str, rng: np.random.Generator, size: int = 64
) -> tuple[np.ndarray, dict[str, float]]:
    """Render one simulated object of a given morphology.

    Parameters
    ----------
    morphology : str
        One of :data:`MORPHOLOGIES`.
    rng : numpy.random.Generator
        Source of all randomness (structure, PSF, neighbour and noise).
    size : int, optional
        Stamp side in pixels (>= 16); 0.262 arcsec per pixel.

    Returns
    -------
    cutout : numpy.ndarray
        ``(3, size, size)`` float32, bands :data:`BANDS`, nanomaggies per
        pixel, sky-subtracted, PSF-convolved, with sky and source noise.
    params : dict of str to float
        True parameters; the same keys for every morphology (NaN where not
        applicable), e.g. ``morphology_id`` (index in MORPHOLOGIES), ``mag_r``
        (AB mag), ``flux_r_nmgy``, ``g_minus_r``/``r_minus_z`` (integrated
        noiseless colours of the object, AB mag), ``x_offset_px``/``y_offset_px``,
        ``r_eff_arcsec`` (Sersic/disc half-light radius), ``sersic_n``,
        ``axis_ratio``, ``position_angle_deg`` (CCW from +x), ``bulge_to_total``,
        ``n_arms``, ``bar_length_arcsec``, ``dust_tau_r``, ``merger_*``,
        ``psf_fwhm_arcsec`` (r band; ``psf_moffat_beta`` NaN for a Gaussian PSF),
        ``sky_sigma`` (r band, nmgy/pixel; ``_g``/``_z`` variants),
        ``gain_e_per_nmgy``, ``has_neighbour`` (0/1) and ``neighbour_*``.

    Raises
    ------
    ValueError
        For an unknown morphology or a bad ``size``.
    """
    return _render(str(morphology), rng, size)


def render_cutouts(
    morphologies: Sequence[str], seed: int, size: int = 64
) -> tuple[np.ndarray, list[dict[str, float]]]:
    """Render a labelled set of cutouts, deterministically.

    Object ``i`` is drawn from its own generator
    ``default_rng(SeedSequence(seed).spawn(n)[i])``, so it depends only on
    ``seed``, ``i``, ``morphologies[i]`` and ``size`` - not on how many or
    which other objects are rendered.

    Parameters
    ----------
    morphologies : sequence of str
        Length-``N`` class labels, each in :data:`MORPHOLOGIES`.
    seed : int
        Non-negative master seed.
    size : int, optional
        Stamp side in pixels.

    Returns
    -------
    cutouts : numpy.ndarray
        ``(N, 3, size, size)`` float32 in nanomaggies per pixel.
    params : list of dict
        One parameter dict per object (see :func:`render_object`).
    """
    labels = [str(m) for m in morphologies]
    bad = sorted(set(labels) - set(MORPHOLOGIES))
    if bad:
        raise ValueError(f"unknown morphologies {bad}; expected values in {MORPHOLOGIES}")
    children = np.random.SeedSequence(int(seed)).spawn(len(labels))
    out = np.empty((len(labels), 3, int(size), int(size)), dtype=np.float32)
    params: list[dict[str, float]] = []
    for i, (label, child) in enumerate(zip(labels, children, strict=True)):
        out[i], p = _render(label, np.random.default_rng(child), size)
        params.append(p)
    return out, params
