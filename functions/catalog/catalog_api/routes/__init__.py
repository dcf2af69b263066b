"""One router per catalog resource; each route hands its request to omicsgate.catalog.web."""
