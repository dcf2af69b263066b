"""GA4GH RNAget 1.2 under /rnaget: service-info, projects and studies."""
