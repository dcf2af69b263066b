"""OmicsGate shared layer: settings, storage, web plumbing, models and science."""

__version__ = "0.1.0"
