"""Portal API, reference group: tissues, genes, exons, variants."""
