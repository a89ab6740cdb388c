"""Business rules as pure functions: no I/O, no clock of their own (the caller passes dates)."""
