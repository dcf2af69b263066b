"""Pure computations over small in-memory matrices: no I/O, no storage, no web.

Serving code reads the data and hands plain numpy arrays here; everything in this package
can be tested on its own against a reference implementation.
"""

from omicsgate.science.clustering import NOT_ENOUGH_DATA, cluster_newick, upgma

__all__ = ["NOT_ENOUGH_DATA", "cluster_newick", "upgma"]
