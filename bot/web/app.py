"""Building the FastAPI app. `create_app` takes its collaborators, so tests and the server wire
the same code (the composition root is `bot.bootstrap` plus `bot.cli run`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import __version__
from bot.channels import telegram, webchat, whatsapp
from bot.channels.messaging import Messaging
from bot.config import Settings
from bot.domain.trainings import Calendar
from bot.engine import Engine
from bot.persistence.database import sessionmaker
from bot.web import backoffice, console, errors
from bot.web.limits import BodyLimit
from bot.web.throttle import TokenBuckets

HERE = Path(__file__).resolve().parent

# No inline script or style: customer text can never become code on the page.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def create_app(
    engine: Engine,
    database: AsyncEngine,
    background: Callable[[], Callable[[], None]] | None = None,
    *,
    calendar: Calendar | None = None,
    messaging: Messaging | None = None,
    settings: Settings | None = None,
) -> FastAPI:
    """`background`, when given, starts work that lives as long as the server (the scheduler)
    and returns the function that stops it. `settings` (optional: the defaults otherwise) are
    read by request handling itself, e.g. the trusted proxies of `web.client_address`."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await channels.start()
        stop = background() if background else None
        yield
        if stop:
            stop()
        await channels.stop()
        await database.dispose()

    channels = messaging or Messaging()

    app = FastAPI(title="perseo-bot", version=__version__, lifespan=lifespan)
    app.state.engine = engine
    app.state.database = database
    app.state.sessions = sessionmaker(database)
    app.state.settings = settings
    app.state.login_sleep = asyncio.sleep  # the console's login backoff waits with it (tests record instead)
    # The console's customer panel reads accounts exactly as the chat does (the store's factory).
    app.state.accounts = getattr(engine.store, "accounts", None)
    app.state.calendar = calendar if calendar is not None else Calendar(engine.zone, (), ())
    app.state.telegram, app.state.telegram_secret = channels.telegram, channels.telegram_secret
    app.state.whatsapp, app.state.whatsapp_secret = channels.whatsapp, channels.whatsapp_secret
    app.state.whatsapp_verify_token = channels.whatsapp_verify_token
    app.state.templates = Jinja2Templates(directory=HERE / "templates")
    # POST /api/chat per client address; in-process, so N replicas allow N times the rate.
    throttle = settings or Settings(_env_file=None)  # type: ignore[call-arg]
    app.state.chat_throttle = TokenBuckets(throttle.chat_rate_per_minute / 60, throttle.chat_burst)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(webchat.router)
    app.include_router(console.router)
    app.include_router(backoffice.router)
    errors.install(app)  # Spanish error pages and JSON under /console
    app.include_router(telegram.router)
    app.include_router(whatsapp.router)
    app.add_middleware(BodyLimit)  # added first: inside the headers middleware, so its 413 gets them too

    @app.middleware("http")
    async def throttle_and_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        refused = webchat.throttled(request) if request.method == "POST" and request.url.path == "/api/chat" else None
        response = refused or await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        try:
            async with database.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as exc:  # the point of a health check is to report, not to raise
            return JSONResponse({"status": "error", "database": str(exc)[:200]}, status_code=503)
        articles = len(engine.router.knowledge.pack.articles)
        return JSONResponse({"status": "ok", "articles": articles, "version": __version__})

    return app
