"""Hierarchical clustering of a median-expression matrix, written as Newick.

What ``/medianGeneExpression`` answers in ``clusters.gene`` and ``clusters.tissue``:
average-linkage (UPGMA) clustering on the Euclidean distance between rows, leaves put in
the optimal order (Bar-Joseph et al. 2001: adjacent leaves as close as possible), written
as Newick with branch lengths.

Choices, checked against the RatGTEx v4 spec and GTEx Portal v2:

- Distances are on the medians as served (TPM), not log-transformed. GTEx v2 documents
  "Euclidean distances and average linkage" with no transform, and the RatGTEx example
  ``((Rtel1:233.244,Polr3k:233.244):1054.57,Eno1:1287.81);`` has branch lengths of
  hundreds and thousands: TPM differences, not log units. Genes are clustered on the rows
  of the genes x tissues matrix, tissues on its columns (the caller transposes).
- Heights are the linkage distances themselves (scipy's ``Z[:, 2]``, not halved): a leaf's
  branch is its parent's height, an inner node's branch is its parent's height minus its
  own. In the example 233.244 + 1054.57 = 1287.81, the root's height.
- Numbers have 6 significant digits (``%g``), as in the example. Labels are written bare
  unless they hold a Newick metacharacter (whitespace, ``()[]':;,``), then single-quoted.
- Fewer than two labels: the string ``"Not enough data"`` (RatGTEx's answer).

The result equals scipy's ``optimal_leaf_ordering(linkage(X, "average"), X)`` (same merges,
heights and leaf order; ties aside), which ``tests/unit/test_clustering.py`` checks. scipy
itself is not used here: it would add about 100 MB to a layer already at 141 MB of Lambda's
250 MB. The matrices are small (at most a request's genes x the release's tissues), so an
O(n^2) memory, O(n^3) time numpy implementation is enough.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

NOT_ENOUGH_DATA = "Not enough data"
_NEWICK_SPECIAL = frozenset(" \t\n\r()[]':;,")
# Elements of one min-plus block: bounds the temporary memory of the leaf ordering.
_BLOCK = 1 << 21


def cluster_newick(matrix: np.ndarray | Sequence[Sequence[float]], labels: Sequence[str]) -> str:
    """Newick tree of the rows of ``matrix`` (one row per label), or "Not enough data"."""
    points = np.asarray(matrix, dtype=np.float64)
    if points.ndim != 2 or points.shape[0] != len(labels):
        raise ValueError(f"{points.shape} matrix for {len(labels)} labels")
    if len(labels) < 2:
        return NOT_ENOUGH_DATA
    distances = euclidean_distances(points)
    return newick(optimal_leaf_ordering(upgma_linkage(distances), distances), labels)


def upgma(points: np.ndarray) -> np.ndarray:
    """scipy-style linkage of the rows of ``points``: average linkage, optimal leaf order."""
    distances = euclidean_distances(np.asarray(points, dtype=np.float64))
    return optimal_leaf_ordering(upgma_linkage(distances), distances)


def euclidean_distances(points: np.ndarray) -> np.ndarray:
    """Square matrix of Euclidean distances between rows, one row at a time (exact, unlike
    the Gram-matrix shortcut, and without an n x n x m temporary)."""
    if points.ndim != 2:
        raise ValueError("points must be a 2-D matrix")
    if not np.all(np.isfinite(points)):
        raise ValueError("points must be finite (replace missing values first)")
    n = points.shape[0]
    distances = np.empty((n, n), dtype=np.float64)
    for i in range(n):
        distances[i] = np.sqrt(np.square(points - points[i]).sum(axis=1))
    distances[np.diag_indices(n)] = 0.0
    return np.maximum(distances, distances.T)  # exactly symmetric


def upgma_linkage(distances: np.ndarray) -> np.ndarray:
    """Average-linkage merges as scipy writes them: row t merges clusters ``Z[t, 0]`` <
    ``Z[t, 1]`` at height ``Z[t, 2]`` into cluster ``n + t`` of ``Z[t, 3]`` leaves.

    Average linkage never inverts, so merges come out in order of height, as scipy sorts
    them."""
    n = distances.shape[0]
    work = np.array(distances, dtype=np.float64)
    work[np.diag_indices(n)] = np.inf
    ids = np.arange(n)
    sizes = np.ones(n)
    linkage = np.empty((n - 1, 4), dtype=np.float64)
    # Each row's nearest cluster, kept up to date: a step costs O(n), not an O(n^2) scan.
    nearest = np.argmin(work, axis=1)
    nearest_distance = work[np.arange(n), nearest]
    for step in range(n - 1):
        i = int(np.argmin(nearest_distance))
        j = int(nearest[i])
        if i > j:
            i, j = j, i
        height = work[i, j]
        merged = (sizes[i] * work[i] + sizes[j] * work[j]) / (sizes[i] + sizes[j])
        linkage[step] = (min(ids[i], ids[j]), max(ids[i], ids[j]), height, sizes[i] + sizes[j])
        # Cluster i takes the merge; j is retired (its row and column never win again).
        merged[i] = merged[j] = np.inf
        work[i, :] = merged
        work[:, i] = merged
        work[j, :] = np.inf
        work[:, j] = np.inf
        ids[i] = n + step
        sizes[i] += sizes[j]
        nearest_distance[j] = np.inf
        stale = np.flatnonzero((nearest == i) | (nearest == j))
        stale = stale[stale != j]
        closer = merged < nearest_distance
        nearest[closer] = i
        nearest_distance[closer] = merged[closer]
        stale = np.union1d(stale, [i])
        nearest[stale] = np.argmin(work[stale], axis=1)
        nearest_distance[stale] = work[stale, nearest[stale]]
    return linkage


def _children(linkage: np.ndarray) -> list[tuple[int, int]]:
    return [(int(a), int(b)) for a, b in linkage[:, :2]]


def leaf_order(linkage: np.ndarray) -> list[int]:
    """Leaves left to right (scipy's ``leaves_list``)."""
    n = linkage.shape[0] + 1
    children = _children(linkage)
    order: list[int] = []
    stack = [2 * n - 2]
    while stack:
        cluster = stack.pop()
        if cluster < n:
            order.append(cluster)
        else:
            left, right = children[cluster - n]
            stack.extend((right, left))
    return order


def _min_plus(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``out[i, k] = min_j a[i, j] + b[j, k]``, in blocks of rows to bound memory."""
    rows = max(1, _BLOCK // max(1, a.shape[1] * b.shape[1]))
    out = np.empty((a.shape[0], b.shape[1]), dtype=np.float64)
    for start in range(0, a.shape[0], rows):
        block = a[start : start + rows, :, None] + b[None, :, :]
        out[start : start + rows] = block.min(axis=1)
    return out


def optimal_leaf_ordering(linkage: np.ndarray, distances: np.ndarray) -> np.ndarray:
    """The same tree with children swapped so that the sum of distances between adjacent
    leaves is least (Bar-Joseph, Gifford, Jaakkola 2001). Like scipy, the root keeps its
    children's order; every other node may be flipped.

    ``best[u, w]``: the least cost of ordering the cluster where leaves u and w first meet
    with u at its left end and w at its right end; filled bottom-up with min-plus products
    over the inner ends (m next to k across the split)."""
    n = linkage.shape[0] + 1
    if n < 3:
        return np.array(linkage, dtype=np.float64)
    children = _children(linkage)
    order = np.array(leaf_order(linkage))
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n)
    span = np.empty((2 * n - 1, 2), dtype=np.int64)  # every cluster is a run of `order`
    span[:n, 0] = position
    span[:n, 1] = position + 1
    for t, (a, b) in enumerate(children):
        span[n + t] = (min(span[a, 0], span[b, 0]), max(span[a, 1], span[b, 1]))

    def leaves(cluster: int) -> np.ndarray:
        return order[span[cluster, 0] : span[cluster, 1]]

    def contains(cluster: int, leaf: int) -> bool:
        return bool(span[cluster, 0] <= position[leaf] < span[cluster, 1])

    def ends(cluster: int) -> list[tuple[int, int]]:
        """(outer child, inner child) pairs: which side holds the outer end."""
        if cluster < n:
            return [(cluster, cluster)]
        a, b = children[cluster - n]
        return [(a, b), (b, a)]

    def inner(cluster: int, outer_leaf: int) -> int:
        """The child of ``cluster`` without ``outer_leaf`` (the cluster itself if a leaf)."""
        if cluster < n:
            return cluster
        a, b = children[cluster - n]
        return b if contains(a, outer_leaf) else a

    best = np.zeros((n, n), dtype=np.float64)
    for a, b in children:
        for outer_left, inner_left in ends(a):
            us, ms = leaves(outer_left), leaves(inner_left)
            for outer_right, inner_right in ends(b):
                ws, ks = leaves(outer_right), leaves(inner_right)
                to_k = _min_plus(best[np.ix_(us, ms)], distances[np.ix_(ms, ks)])
                cost = _min_plus(to_k, best[np.ix_(ks, ws)])
                best[np.ix_(us, ws)] = cost
                best[np.ix_(ws, us)] = cost.T

    ordered = np.array(linkage, dtype=np.float64)
    root = 2 * n - 2
    a, b = children[root - n]
    left, right = leaves(a), leaves(b)
    flat = int(np.argmin(best[np.ix_(left, right)]))
    stack = [(root, int(left[flat // len(right)]), int(right[flat % len(right)]))]
    while stack:
        cluster, u, w = stack.pop()  # u must end up leftmost, w rightmost
        if cluster < n:
            continue
        a, b = children[cluster - n]
        if not contains(a, u):
            a, b = b, a
        ordered[cluster - n, :2] = (a, b)
        inner_left, inner_right = inner(a, u), inner(b, w)
        m, k = leaves(inner_left), leaves(inner_right)
        total = best[u, m][:, None] + distances[np.ix_(m, k)] + best[k, w][None, :]
        flat = int(np.argmin(total))
        stack.append((a, u, int(m[flat // len(k)])))
        stack.append((b, int(k[flat % len(k)]), w))
    return ordered


def newick(linkage: np.ndarray, labels: Sequence[str]) -> str:
    """The tree of a scipy-style linkage, left child first, with branch lengths."""
    n = linkage.shape[0] + 1
    if len(labels) != n:
        raise ValueError(f"{len(labels)} labels for a tree of {n} leaves")
    if n < 2:
        return NOT_ENOUGH_DATA
    heights = np.concatenate([np.zeros(n), linkage[:, 2]])
    children = _children(linkage)
    text: dict[int, str] = {}
    for t, (a, b) in enumerate(children):  # children are always made before parents
        parent = n + t
        parts = []
        for child in (a, b):
            body = text.pop(child) if child >= n else _label(labels[child])
            parts.append(f"{body}:{_length(heights[parent] - heights[child])}")
        text[parent] = f"({parts[0]},{parts[1]})"
    return text[2 * n - 2] + ";"


def _length(value: float) -> str:
    return f"{max(0.0, float(value)):.6g}"


def _label(label: str) -> str:
    if label and not (_NEWICK_SPECIAL & set(label)):
        return label
    return "'" + label.replace("'", "''") + "'"
