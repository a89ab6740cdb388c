"""The FastAPI application: web chat, health check and (later) webhooks and the console."""
