"""Portal API, expression group: per-sample, median and top-gene expression."""
