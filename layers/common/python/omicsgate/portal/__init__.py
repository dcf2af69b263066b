"""Portal (GTEx/RatGTEx) data access over a release."""
