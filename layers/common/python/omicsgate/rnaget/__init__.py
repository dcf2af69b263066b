"""GA4GH RNAget over OmicsGate's store: projects, studies (and later expressions and
continuous signal). See :mod:`omicsgate.rnaget.catalog` for where the objects come from."""
