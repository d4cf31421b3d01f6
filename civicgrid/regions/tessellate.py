"""Demo grids: real county boundaries cut into cells of roughly 300–1,000 households,
each cell given to a real village/community code of that county.

The boundaries and the codes are real; which village sits where is not (the open data
has no village boundaries). Cells follow a Hilbert curve, so each town and village
gets a contiguous run of cells; their boundaries are the unions of their cells.
"""

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely import STRtree
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry

from civicgrid.regions.geometry import PRECISION, area_m2, polygonal_part

TARGET_HOUSEHOLDS = 650  # households per grid aimed at
MIN_FRAGMENT = 0.35  # clipped cells smaller than this share of a full cell are merged


def hilbert_index(x: np.ndarray, y: np.ndarray, order: int = 16) -> np.ndarray:
    """Position of integer cell coordinates along a Hilbert curve of side 2**order."""
    x, y = x.astype(np.int64).copy(), y.astype(np.int64).copy()
    d = np.zeros_like(x)
    s = 1 << (order - 1)
    while s > 0:
        rx = ((x & s) > 0).astype(np.int64)
        ry = ((y & s) > 0).astype(np.int64)
        d += s * s * ((3 * rx) ^ ry)
        # rotate the quadrant
        flip = ry == 0
        swap_x = np.where(flip & (rx == 1), s - 1 - x, x)
        swap_y = np.where(flip & (rx == 1), s - 1 - y, y)
        x = np.where(flip, swap_y, swap_x)
        y = np.where(flip, swap_x, swap_y)
        s >>= 1
    return d


@dataclass
class Cell:
    geometry: BaseGeometry
    order: int


def cut_cells(boundary: BaseGeometry, n_cells: int) -> list[Cell]:
    """About ``n_cells`` square cells covering ``boundary`` exactly, in Hilbert order."""
    total_m2 = area_m2(boundary)
    side_m = math.sqrt(total_m2 / max(n_cells, 1))
    minx, miny, maxx, maxy = boundary.bounds
    lat0 = (miny + maxy) / 2
    dx = side_m / (111_320 * math.cos(math.radians(lat0)))
    dy = side_m / 110_574
    nx, ny = math.ceil((maxx - minx) / dx) + 1, math.ceil((maxy - miny) / dy) + 1
    mesh_x, mesh_y = np.meshgrid(np.arange(nx), np.arange(ny))
    ix, iy = mesh_x.ravel(), mesh_y.ravel()
    boxes = shapely.set_precision(
        shapely.box(
            minx + ix * dx, miny + iy * dy, minx + (ix + 1) * dx, miny + (iy + 1) * dy
        ),
        PRECISION,
    )
    shapely.prepare(boundary)
    hit = shapely.intersects(boundary, boxes)
    boxes, ix, iy = boxes[hit], ix[hit], iy[hit]
    inside = shapely.contains_properly(boundary, boxes)
    clipped = boxes.copy()
    clipped[~inside] = shapely.intersection(
        boxes[~inside], boundary, grid_size=PRECISION
    )
    clipped = np.asarray([polygonal_part(g) for g in clipped], dtype=object)
    keep = ~shapely.is_empty(clipped)
    cells, order = list(clipped[keep]), hilbert_index(ix[keep], iy[keep])
    return _merge_fragments(cells, order, full_area=dx * dy)


def _merge_fragments(
    geoms: list[BaseGeometry], order: np.ndarray, full_area: float
) -> list[Cell]:
    """Merge slivers left by clipping into the neighbour sharing most border with them
    (or the nearest cell, for an island)."""
    areas = shapely.area(np.asarray(geoms, dtype=object))
    big = [i for i, a in enumerate(areas) if a >= MIN_FRAGMENT * full_area]
    small = [i for i, a in enumerate(areas) if a < MIN_FRAGMENT * full_area]
    if not big:
        return [Cell(shapely.union_all(geoms, grid_size=PRECISION), 0)]
    big_geoms = np.asarray([geoms[i] for i in big], dtype=object)
    tree = STRtree(big_geoms)
    merged: dict[int, list[BaseGeometry]] = {k: [g] for k, g in enumerate(big_geoms)}
    for i in small:
        frag = geoms[i]
        near = tree.query(frag, predicate="intersects")
        if near.size:
            shared = shapely.length(
                shapely.intersection(
                    big_geoms[near], frag.boundary, grid_size=PRECISION
                )
            )
            target = int(near[int(np.argmax(shared))])
        else:
            target = int(tree.nearest(frag))
        merged[target].append(frag)
    cells = []
    for k, parts in merged.items():
        geom = (
            parts[0]
            if len(parts) == 1
            else polygonal_part(shapely.union_all(parts, grid_size=PRECISION))
        )
        if isinstance(geom, MultiPolygon) and len(geom.geoms) == 1:
            geom = geom.geoms[0]
        cells.append(Cell(geom, int(order[big[k]])))
    cells.sort(key=lambda c: c.order)
    return cells


def split_counts(total: int, weights: list[int]) -> list[int]:
    """Split ``total`` items into runs, at least one per weight unit, the rest in
    proportion (largest remainders)."""
    base = list(weights)
    rest = total - sum(base)
    if rest < 0:
        raise ValueError("fewer cells than villages")
    wsum = sum(weights) or 1
    shares = [rest * w / wsum for w in weights]
    extra = [int(s) for s in shares]
    left = rest - sum(extra)
    for i in sorted(
        range(len(weights)), key=lambda i: shares[i] - extra[i], reverse=True
    )[:left]:
        extra[i] += 1
    return [b + e for b, e in zip(base, extra, strict=True)]
