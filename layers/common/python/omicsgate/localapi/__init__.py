"""Run the template's Lambda handlers locally, without Docker: what ``make serve`` uses."""
