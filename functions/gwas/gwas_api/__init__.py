"""OpenGWAS API group (IEU OpenGWAS v4 shapes)."""
