"""The SQL adapter: tables, migrations and the conversation store (SQLite or PostgreSQL)."""
