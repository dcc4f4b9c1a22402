"""Which points of a 2-D map fall inside a box or a polygon (selection regions)."""

from __future__ import annotations

import numpy as np

__all__ = ["points_in_box", "points_in_polygon"]


def points_in_box(xy: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    """Mask (N,) of the points of ``xy`` (N, 2) inside the box (corners in any order)."""
    xlo, xhi = sorted((x0, x1))
    ylo, yhi = sorted((y0, y1))
    return (xy[:, 0] >= xlo) & (xy[:, 0] <= xhi) & (xy[:, 1] >= ylo) & (xy[:, 1] <= yhi)


def points_in_polygon(xy: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Mask (N,) of the points of ``xy`` (N, 2) inside a closed polygon (M, 2).

    Even-odd ray casting, vectorised over points and looped over the M edges,
    after a bounding-box cut so only candidate points are tested.
    """
    polygon = np.asarray(polygon, dtype=np.float64)
    inside = np.zeros(len(xy), dtype=bool)
    if len(polygon) < 3 or len(xy) == 0:
        return inside
    candidates = np.flatnonzero(points_in_box(xy, *polygon.min(axis=0), *polygon.max(axis=0)))
    px = xy[candidates, 0].astype(np.float64)
    py = xy[candidates, 1].astype(np.float64)
    hit = np.zeros(candidates.size, dtype=bool)
    xj, yj = polygon[-1]
    for xi, yi in polygon:
        crosses = (yi > py) != (yj > py)
        if crosses.any() and yj != yi:
            x_cross = xi + (py - yi) * (xj - xi) / (yj - yi)
            hit ^= crosses & (px < x_cross)
        xj, yj = xi, yi
    inside[candidates] = hit
    return inside
