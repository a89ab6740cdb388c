"""perseo-bot: onboarding and support assistant for Perseo WEB customers."""

__version__ = "0.1.0"
