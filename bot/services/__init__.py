"""The service layer: use cases on top of the domain rules and the database session.

Each function takes an `AsyncSession` (the caller owns the transaction) and plain values,
so the CLI, the web app, the scheduler and the dialogue flows share the same code.
"""
