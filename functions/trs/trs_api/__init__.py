"""GA4GH TRS 2.1 under /ga4gh/trs/v2: the read API, trs-filer's write API, validation."""
