"""UPGMA with optimal leaf ordering, checked against scipy.cluster.hierarchy.

scipy's ``optimal_leaf_ordering`` has a known bug (scipy/scipy#11227, open): it computes the
optimal cost but does not always return an order reaching it. So: merges and heights must
equal scipy's ``linkage(X, "average")``; our order must never cost more than scipy's, must
be the brute-force optimum on small trees, and must equal scipy's whenever scipy's order is
optimal. Random continuous data has no ties, so these are exact statements.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
from scipy.cluster import hierarchy
from scipy.spatial.distance import pdist, squareform

from omicsgate.science import NOT_ENOUGH_DATA, cluster_newick, upgma
from omicsgate.science.clustering import leaf_order, newick

pytestmark = pytest.mark.unit


# A tiny Newick reader: enough to check what we write (quoted labels, branch lengths).
_TOKEN = re.compile(r"\s*('(?:[^']|'')*'|[(),:;]|[^\s(),:;']+)")


def parse_newick(text: str) -> tuple[object, float]:
    """(tree, length): a tree is a leaf label (str) or a list of (tree, length) pairs."""
    tokens = _TOKEN.findall(text)
    position = 0

    def peek() -> str:
        return tokens[position]

    def take(expected: str | None = None) -> str:
        nonlocal position
        token = tokens[position]
        assert expected is None or token == expected, (token, expected, text)
        position += 1
        return token

    def node() -> tuple[object, float]:
        if peek() == "(":
            take("(")
            children = [node()]
            while peek() == ",":
                take(",")
                children.append(node())
            take(")")
            tree: object = children
        else:
            label = take()
            tree = label[1:-1].replace("''", "'") if label.startswith("'") else label
        length = 0.0
        if peek() == ":":
            take(":")
            length = float(take())
        return tree, length

    tree = node()
    take(";")
    assert position == len(tokens), text
    return tree


def leaves(tree: object) -> list[str]:
    if isinstance(tree, str):
        return [tree]
    assert isinstance(tree, list)
    return [leaf for child, _ in tree for leaf in leaves(child)]


def root_to_leaf(tree: object, depth: float = 0.0) -> list[float]:
    if isinstance(tree, str):
        return [depth]
    assert isinstance(tree, list)
    return [d for child, length in tree for d in root_to_leaf(child, depth + length)]


def clusters(linkage: np.ndarray) -> dict[frozenset[int], float]:
    """Every merge as (its set of leaves) -> height: the topology, whatever the order."""
    n = linkage.shape[0] + 1
    members: list[frozenset[int]] = [frozenset([i]) for i in range(n)]
    found = {}
    for a, b, height, _ in linkage:
        merged = members[int(a)] | members[int(b)]
        members.append(merged)
        found[merged] = float(height)
    return found


def order_cost(order: list[int], distances: np.ndarray) -> float:
    return float(sum(distances[a, b] for a, b in itertools.pairwise(order)))


def brute_force_best(linkage: np.ndarray, distances: np.ndarray) -> float:
    n = linkage.shape[0] + 1
    best = np.inf
    for flips in itertools.product([False, True], repeat=n - 2):  # the root's flip = reverse
        flipped = linkage.copy()
        for row, flip in enumerate(flips):
            if flip:
                flipped[row, [0, 1]] = flipped[row, [1, 0]]
        best = min(best, order_cost([int(i) for i in hierarchy.leaves_list(flipped)], distances))
    return best


def matrices(seed: int, count: int, max_rows: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    shapes = [(int(rng.integers(2, max_rows)), int(rng.integers(1, 14))) for _ in range(count)]
    # Log-normal, like TPM medians: a few large values, many small ones.
    return [rng.lognormal(2.0, 1.5, size=shape) for shape in shapes]


@pytest.mark.parametrize("points", matrices(1, 60, 40), ids=lambda m: f"{m.shape}")
def test_merges_and_heights_equal_scipy_average_linkage(points: np.ndarray) -> None:
    ours = upgma(points)
    theirs = hierarchy.linkage(points, method="average", metric="euclidean")
    np.testing.assert_allclose(ours[:, 2], theirs[:, 2], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(ours[:, 3], theirs[:, 3])
    ours_clusters, theirs_clusters = clusters(ours), clusters(theirs)
    assert ours_clusters.keys() == theirs_clusters.keys()
    for members, height in ours_clusters.items():
        assert height == pytest.approx(theirs_clusters[members], rel=1e-12)
    # Same tree as scipy's to_tree, node for node (only children may be swapped).
    assert hierarchy.is_valid_linkage(ours)
    assert hierarchy.to_tree(ours).get_count() == points.shape[0]


@pytest.mark.parametrize("points", matrices(2, 200, 40), ids=lambda m: f"{m.shape}")
def test_leaf_order_is_never_worse_than_scipy_and_equals_it_when_scipy_is_optimal(
    points: np.ndarray,
) -> None:
    distances = squareform(pdist(points))
    linkage = hierarchy.linkage(points, method="average")
    scipy_order = [
        int(i) for i in hierarchy.leaves_list(hierarchy.optimal_leaf_ordering(linkage, points))
    ]
    ours = upgma(points)
    our_order = leaf_order(ours)
    assert our_order == [int(i) for i in hierarchy.leaves_list(ours)]
    assert sorted(our_order) == list(range(points.shape[0]))
    ours_cost, scipy_cost = order_cost(our_order, distances), order_cost(scipy_order, distances)
    assert ours_cost <= scipy_cost + 1e-9
    if scipy_cost <= ours_cost + 1e-9:
        assert our_order == scipy_order
        # Then the Newick strings agree too, written from either linkage.
        labels = [f"g{i}" for i in range(points.shape[0])]
        scipy_ordered = hierarchy.optimal_leaf_ordering(linkage, points)
        assert newick(ours, labels) == newick(scipy_ordered, labels)


@pytest.mark.parametrize("points", matrices(3, 80, 10), ids=lambda m: f"{m.shape}")
def test_leaf_order_is_the_brute_force_optimum(points: np.ndarray) -> None:
    distances = squareform(pdist(points))
    ours = upgma(points)
    best = brute_force_best(hierarchy.linkage(points, method="average"), distances)
    assert order_cost(leaf_order(ours), distances) == pytest.approx(best, rel=1e-12)


def test_scipy_order_is_sometimes_not_optimal() -> None:
    """Why the test above does not demand scipy's order: scipy/scipy#11227."""
    worse = 0
    for points in matrices(3, 80, 10):
        distances = squareform(pdist(points))
        linkage = hierarchy.linkage(points, method="average")
        theirs = hierarchy.leaves_list(hierarchy.optimal_leaf_ordering(linkage, points))
        worse += (
            order_cost([int(i) for i in theirs], distances)
            > brute_force_best(linkage, distances) + 1e-9
        )
    assert worse > 0


@pytest.mark.parametrize("points", matrices(4, 40, 30), ids=lambda m: f"{m.shape}")
def test_newick_parses_with_every_label_once_and_an_ultrametric_tree(points: np.ndarray) -> None:
    labels = [f"Gene{i}" for i in range(points.shape[0])]
    text = cluster_newick(points, labels)
    tree, _ = parse_newick(text)
    assert sorted(leaves(tree)) == sorted(labels)
    assert leaves(tree) == [labels[i] for i in leaf_order(upgma(points))]
    root_height = float(upgma(points)[-1, 2])
    # Every leaf sits at the root's height (6 significant digits per branch).
    for depth in root_to_leaf(tree):
        assert depth == pytest.approx(root_height, rel=1e-4, abs=1e-3)


def test_branch_lengths_follow_the_spec_convention() -> None:
    """Two close genes and a far one, as in the spec's example: a leaf's branch is its
    merge height; the inner branch is the root's height minus the pair's. The root keeps
    scipy's child order (leaf before cluster); Polr3k, nearer Eno1, sits next to it."""
    points = np.array([[0.0, 0.0], [3.0, 4.0], [100.0, 0.0]])
    d01 = 5.0
    d_far = (np.hypot(100.0, 0.0) + np.hypot(97.0, 4.0)) / 2
    text = cluster_newick(points, ["Rtel1", "Polr3k", "Eno1"])
    assert text == f"(Eno1:{d_far:.6g},(Polr3k:{d01:.6g},Rtel1:{d01:.6g}):{d_far - d01:.6g});"
    (tree, _) = parse_newick(text)
    assert root_to_leaf(tree) == pytest.approx([d_far] * 3, rel=1e-5)


def test_spec_example_numbers_agree_with_the_convention() -> None:
    tree, _ = parse_newick("((Rtel1:233.244,Polr3k:233.244):1054.57,Eno1:1287.81);")
    assert root_to_leaf(tree) == pytest.approx([1287.81] * 3, abs=0.01)


def test_fewer_than_two_labels_is_not_enough_data() -> None:
    assert cluster_newick(np.zeros((1, 3)), ["Eno1"]) == NOT_ENOUGH_DATA
    assert cluster_newick(np.zeros((0, 3)), []) == NOT_ENOUGH_DATA


def test_identical_rows_give_zero_lengths_and_odd_labels_are_quoted() -> None:
    labels = ["a b", "it's", "x:y", "plain_id"]
    text = cluster_newick(np.ones((4, 2)), labels)
    tree, _ = parse_newick(text)
    assert sorted(leaves(tree)) == sorted(labels)
    assert "'a b'" in text and "'it''s'" in text and "'x:y'" in text and "plain_id:" in text
    bare = re.sub(r"'(?:[^']|'')*'", "L", text)
    assert set(re.findall(r":([^,);]+)", bare)) == {"0"}


def test_refuses_a_mismatch_and_missing_values() -> None:
    with pytest.raises(ValueError):
        cluster_newick(np.zeros((3, 2)), ["a", "b"])
    with pytest.raises(ValueError):
        cluster_newick(np.array([[1.0, np.nan], [0.0, 1.0]]), ["a", "b"])


def test_a_thousand_genes_cluster_in_well_under_a_second_or_two() -> None:
    import time

    points = np.random.default_rng(5).lognormal(2.0, 1.5, size=(1000, 13))
    start = time.perf_counter()
    text = cluster_newick(points, [f"g{i}" for i in range(1000)])
    assert time.perf_counter() - start < 5.0
    assert len(leaves(parse_newick(text)[0])) == 1000
