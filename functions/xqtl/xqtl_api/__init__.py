"""Portal API, xQTL group: independent eQTLs and xQTLs, significant pairs, dynamic eQTLs."""
