"""One module per intent. Each exposes `handle(...) -> Outcome`; the router picks the module."""
