"""Configuration: defaults, then instance/config.py, then the environment,
then the test dict given to create_app."""

import os
import secrets
from datetime import datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlsplit


class DefaultConfig:
    MARKET_ENV = "development"
    SQLALCHEMY_DATABASE_URI = None  # filled in from the instance folder
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # "Keep me signed in" lasts this long at most (Flask-Login's default is a
    # year); logging out or a password change ends it sooner (session_token).
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    WTF_CSRF_TIME_LIMIT = None  # a stall phone may keep a form open all day
    BABEL_DEFAULT_LOCALE = "ko"
    BABEL_DEFAULT_TIMEZONE = "Asia/Seoul"
    LANGUAGES = ("ko", "en")
    # memory:// counts in each worker process on its own; production needs a
    # store every worker and host shares (redis://) or WEB_WORKERS=1.
    RATELIMIT_STORAGE_URI = "memory://"
    WEB_WORKERS = None  # the operator's word that exactly one web process serves the app
    # While Redis is unreachable each worker counts on its own (and logs it)
    # rather than answering every login with a 500.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = "10 per minute"
    # "비밀번호 찾기": requests from one address, and links mailed to one
    # mailbox (whoever asks); the page answers after the same time whether
    # or not the email has a login.
    PASSWORD_RESET_RATE_LIMIT = "10 per hour"
    PASSWORD_RESET_EMAIL_RATE_LIMIT = "3 per hour"
    PASSWORD_RESET_ANSWER_SECONDS = 0.4
    REGISTRATION_RATE_LIMIT = "10 per hour"  # enterprise sign-ups from one address
    PASSWORD_HASH_METHOD = "scrypt"  # werkzeug's default cost; tests use a cheaper one
    PAGE_SIZE = 50
    # Mail: without MAIL_SERVER, delivery writes .eml files into instance/mail.
    MAIL_SERVER = None
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_FROM = "굿모닝장터 <market@gbsec.example.kr>"
    MAIL_TIMEOUT = 30
    MAIL_DIR = None  # where development mail goes; default instance/mail
    OUTBOX_MAX_ATTEMPTS = 8
    OUTBOX_BATCH_SIZE = 50
    OUTBOX_LEASE_SECONDS = 300  # a claimed message returns to the queue after this
    OUTBOX_POLL_SECONDS = 5  # how often `flask worker` looks for due mail
    # The sender the advertising law asks every mail to name.
    CENTER_NAME = "경기도 사회적경제지원센터"
    CENTER_ADDRESS = "경기도 수원시 영통구 도청로 30"
    CENTER_PHONE = "031-000-0000"
    # Market days (issue: markets).
    MARKET_START = "10:00"
    MARKET_END = "15:00"
    APPLICATION_DEADLINE_TIME = "18:00"  # on the Monday of the market's week
    TAKINGS_CEILING_DEFAULT = 30_000_000
    TAKINGS_WINDOW_DAYS = 3  # vendors enter takings on market day and this many days after
    DEFAULT_BOOTH_COUNT = 8
    CALENDAR_UID_DOMAIN = "goodmorning-market.gbsec.kr"
    CALENDAR_FEED_PAST_DAYS = 90
    CALENDAR_NAME = "굿모닝장터"
    # Booths (issue: booths).
    BOOTH_CATEGORY_CAP = None  # vendors of one category per market; None: booths / 3, rounded up
    BOOTH_WARNING_WEEKS = 4  # the dashboard flags markets this far ahead under the minimum
    # Customers and invitations.
    IMPORT_DIR = None  # default instance/imports
    # Imports are run by `flask worker` (market.customers.jobs), never by the
    # web process. IMPORT_RUN_INLINE (tests only): the request that queues a
    # job then runs the waiting jobs itself, through the worker's own code.
    IMPORT_RUN_INLINE = False
    IMPORT_POLL_SECONDS = 2  # how often an idle worker looks for a job
    IMPORT_HEARTBEAT_SECONDS = 10  # a running job says it is alive this often
    IMPORT_STALE_SECONDS = 180  # no heartbeat for this long: its worker died, another takes over
    IMPORT_MAX_TAKEOVERS = 3  # then the job fails with a reason instead
    IMPORT_WORKER_MISSING_SECONDS = 60  # a job waiting this long: the page says no worker runs
    IMPORT_CHUNK_ROWS = None  # rows written per transaction; None: staging.CHUNK (tests: fewer)
    # Request bodies: small for every form (sign-up, login, profiles ...), so
    # nobody can make the app read hundreds of megabytes it never wanted;
    # large only for the staff's order-file upload (core.web.large_upload).
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    IMPORT_MAX_UPLOAD_BYTES = 512 * 1024 * 1024  # a million-row export is ~150 MB
    CONSENT_WORDING_VERSION = "G마켓 마케팅 수신 동의 (2026-01)"
    # The marketplace whose order export brings the customers: the invitation
    # says consent was given "<name> 구매 시" (market.customers.consent).
    MARKETPLACE_NAME = "G마켓"
    CUSTOMER_INACTIVE_DAYS = 730
    SEND_WINDOW = "08:00-21:00"  # advertising mail goes out only then (Korea time), by law
    CLOCK = None  # tests and demos: "2026-11-26T10:00:00+09:00" stops the app's clock there
    ADVERTISING_CATEGORIES = ("invitation",)  # outbox categories the window applies to
    PUBLIC_BASE_URL = None  # e.g. https://market.example.kr: links in mail made outside a request
    UNSUBSCRIBE_MAILTO = None  # only if someone handles that mailbox
    # The center's mailbox, read by `flask inbox poll` (market.inbox): calendar
    # replies, bounces. Without IMAP_HOST nothing is read.
    IMAP_HOST = None
    IMAP_PORT = None  # default 993 for imaps, 143 for starttls and plain
    IMAP_USER = None
    IMAP_PASSWORD = None
    IMAP_FOLDER = "INBOX"
    IMAP_SECURITY = "imaps"  # imaps | starttls | plain (plain only to this machine)
    IMAP_PROCESSED_FOLDER = "Processed"  # handled replies and bounces are moved here
    IMAP_TIMEOUT = 30
    IMAP_CA_FILE = None  # certificates to trust for the mail server; None: the system's
    INBOX_POLL_SECONDS = 60
    # The ORGANIZER of every invitation and the Reply-To of every mail: that
    # mailbox's address. None: MAIL_FROM's address.
    INVITATION_REPLY_ADDRESS = None
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host/
    # -Port headers are believed (Werkzeug's ProxyFix). 0: none, the app is
    # reached directly; 1: one proxy (nginx, caddy) that sets those headers.
    TRUSTED_PROXY_HOPS = 0
    # 판로지원 실적: keep the last few reports per process until their data
    # changes (market.sales.cache). False builds each afresh (the benchmark
    # measures both).
    SALES_REPORT_CACHE = True
    # Whole public and invitation-answer pages for visitors not logged in
    # (market.core.pagecache, Flask-Caching): kept in each process by
    # default; CACHE_REDIS_URL=redis://HOST:6379/1 keeps them in Redis, shared
    # by every worker and host. Either way a change of the data shows at once.
    CACHE_TYPE = "SimpleCache"
    CACHE_REDIS_URL = None
    CACHE_KEY_PREFIX = "market-page:"
    # Which code made a kept page (market.release): set by a deploy (or
    # MARKET_RELEASE_ID), else a hash of the installed files.
    RELEASE_ID = None
    CACHE_DEFAULT_TIMEOUT = 600  # seconds; a page of old data ages out after this
    CACHE_THRESHOLD = 1000  # pages per process (SimpleCache); ~10 KB each
    # Logged-in staff and vendor pages kept per data version and user in
    # each worker's memory (market.core.signed_in_pages); False builds each
    # page afresh.
    STAFF_PAGE_CACHE = True
    STAFF_PAGE_CACHE_PAGES = 512
    STAFF_PAGE_CACHE_BYTES = 32 * 1024 * 1024
    STAFF_PAGE_MAX_AGE = 600  # seconds; bounds a change no data version saw


ENV_STRINGS = (
    "PUBLIC_BASE_URL",
    "SECRET_KEY",
    "MARKET_ENV",
    "MAIL_SERVER",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_FROM",
    "RATELIMIT_STORAGE_URI",
    "IMAP_HOST",
    "IMAP_USER",
    "IMAP_PASSWORD",
    "IMAP_FOLDER",
    "IMAP_SECURITY",
    "INVITATION_REPLY_ADDRESS",
    "IMAP_CA_FILE",
    "CACHE_REDIS_URL",
)
ENV_INTS = ("MAIL_PORT", "TRUSTED_PROXY_HOPS", "IMAP_PORT", "WEB_WORKERS")
ENV_BOOLS = ("MAIL_USE_TLS", "SALES_REPORT_CACHE", "STAFF_PAGE_CACHE")


def load_environment(config: dict, environ=os.environ) -> None:
    for name in ENV_STRINGS:
        if environ.get(name):
            config[name] = environ[name]
    for name in ENV_INTS:
        if environ.get(name):
            config[name] = int(environ[name])
    for name in ENV_BOOLS:
        if environ.get(name):
            config[name] = environ[name].strip().lower() in {"1", "true", "yes", "on"}
    if environ.get("DATABASE_URL"):
        config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(environ["DATABASE_URL"])
    if environ.get("MARKET_RELEASE_ID"):
        config["RELEASE_ID"] = environ["MARKET_RELEASE_ID"]


def normalise_database_url(url: str) -> str:
    """Hosting platforms hand out postgres:// URLs; we talk psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class ConfigError(RuntimeError):
    pass


# 정보통신망법 제50조: advertising mail may arrive only from 08:00 to 21:00, Korea time.
LAWFUL_SEND_HOURS = (time(8, 0), time(21, 0))


def check_send_window(text) -> None:
    """SEND_WINDOW may narrow the advertising hours, never widen them: a
    window moved to 22:00 would break the law with every invitation sent late."""
    from market.timeutil import parse_window

    try:
        start, end = parse_window(str(text))
    except ValueError as error:
        raise ConfigError(
            f"SEND_WINDOW={text!r} cannot be read. Write the hours advertising mail may be "
            "sent, Korea time, as 08:00-21:00 (or a narrower window such as 09:00-18:00)."
        ) from error
    if start < LAWFUL_SEND_HOURS[0] or end > LAWFUL_SEND_HOURS[1]:
        raise ConfigError(
            f"SEND_WINDOW={text!r} goes outside 08:00-21:00 Korea time. The advertising law "
            "(정보통신망법 제50조) forbids advertising mail such as invitations outside those "
            "hours; use 08:00-21:00 or a narrower window."
        )


def set_clock_from_config(config: dict, production: bool) -> None:
    """CLOCK (an ISO time with its zone) stops the app's clock for a test run
    in another process or a demo, e.g. browser journeys at 10:00 in Korea."""
    if not config.get("CLOCK"):
        return
    if production:
        raise ConfigError("CLOCK stops the app's clock; it is for tests and demos, not production.")
    from market.timeutil import set_clock

    try:
        set_clock(datetime.fromisoformat(str(config["CLOCK"])))
    except ValueError as error:
        raise ConfigError(
            f"CLOCK={config['CLOCK']!r} must be a time with its zone, "
            "for example 2026-11-26T10:00:00+09:00."
        ) from error


def finalise(config: dict, instance_path: str) -> None:
    instance = Path(instance_path)
    check_send_window(config.get("SEND_WINDOW"))
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'market.sqlite'}"
    production = config.get("MARKET_ENV") == "production"
    set_clock_from_config(config, production)
    if int(config.get("TRUSTED_PROXY_HOPS") or 0) < 0:
        raise ConfigError("TRUSTED_PROXY_HOPS counts proxies in front of the app: 0, 1, 2…")
    if production:
        config["SESSION_COOKIE_SECURE"] = True
        config["REMEMBER_COOKIE_SECURE"] = True
    if not config.get("PUBLIC_BASE_URL") and not config.get("SERVER_NAME"):
        # Mail made outside a request (the worker, seed-demo, market changes
        # from the CLI) needs the public address for its links.
        if production:
            raise ConfigError(
                "PUBLIC_BASE_URL is not set. In production set it to the address people "
                "open, for example https://market.example.kr: links in emails use it."
            )
        config["PUBLIC_BASE_URL"] = "http://127.0.0.1:5000"
    if config.get("PUBLIC_BASE_URL"):
        check_public_base_url(config["PUBLIC_BASE_URL"])
    check_imap(config)
    check_page_cache(config)
    if not config.get("RELEASE_ID"):
        from market.release import code_release

        config["RELEASE_ID"] = code_release()
    if not config.get("SECRET_KEY"):
        if production:
            raise ConfigError(
                "SECRET_KEY is not set. In production (MARKET_ENV=production) set the "
                "SECRET_KEY environment variable to a long random value, for example "
                "the output of: python -c 'import secrets; print(secrets.token_hex(32))'"
            )
        config["SECRET_KEY"] = development_secret_key(instance)
    if production:
        check_production(config)


MIN_SECRET_KEY_LENGTH = 32
# Limiter stores every worker on every host shares (the `redis` package is a dependency).
SHARED_LIMITER_SCHEMES = ("redis", "rediss")


def is_production(config) -> bool:
    return config.get("MARKET_ENV") == "production"


def check_production(config: dict) -> None:
    """What production refuses beyond a missing SECRET_KEY or PUBLIC_BASE_URL:
    settings that would run, but unsafely and without anyone noticing."""
    if len(str(config["SECRET_KEY"])) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError(
            f"SECRET_KEY is {len(str(config['SECRET_KEY']))} characters long. In production "
            f"it must be at least {MIN_SECRET_KEY_LENGTH} random characters (it signs every "
            "login cookie), for example the output of: "
            "python -c 'import secrets; print(secrets.token_hex(32))'"
        )
    if urlsplit(str(config["PUBLIC_BASE_URL"])).scheme != "https":
        raise ConfigError(
            f"PUBLIC_BASE_URL={config['PUBLIC_BASE_URL']!r} is not https. In production "
            "people log in through it and links in emails start with it: give the https "
            "address, for example https://market.example.kr."
        )
    if not any("invitation".startswith(prefix) for prefix in config["ADVERTISING_CATEGORIES"]):
        raise ConfigError(
            f"ADVERTISING_CATEGORIES={tuple(config['ADVERTISING_CATEGORIES'])!r} leaves out "
            "invitations: they would be sent at any hour, although the advertising law "
            "(정보통신망법 제50조) allows them only in SEND_WINDOW. Keep the default "
            "('invitation',) or add to it."
        )
    check_limiter_store(config)


def check_limiter_store(config: dict) -> None:
    """The login rate limit must count each visitor's tries across every
    worker: with memory:// each gunicorn worker (and each host) counts on its
    own, so four workers let a password guesser try four times as often."""
    uri = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    one_worker = str(config.get("WEB_WORKERS")).strip() == "1"
    if urlsplit(uri).scheme in SHARED_LIMITER_SCHEMES or one_worker:
        return
    raise ConfigError(
        f"RATELIMIT_STORAGE_URI={uri!r} is not shared between web workers: each worker "
        "would count login attempts on its own. In production set "
        "RATELIMIT_STORAGE_URI=redis://HOST:6379/0 (or rediss:// for TLS), a Redis server "
        "every web worker on every host reaches; or, if the app runs as exactly one "
        "process on one host (gunicorn -w 1), declare it with WEB_WORKERS=1."
    )


def check_page_cache(config: dict) -> None:
    """CACHE_REDIS_URL moves the page cache into Redis (Flask-Caching's
    RedisCache) unless CACHE_TYPE names another store."""
    url = config.get("CACHE_REDIS_URL")
    if not url:
        return
    if urlsplit(str(url)).scheme not in SHARED_LIMITER_SCHEMES:
        raise ConfigError(
            f"CACHE_REDIS_URL={url!r} is not a Redis address. Give one such as "
            "redis://HOST:6379/1 (or rediss:// for TLS), or leave it unset to keep pages "
            "in each web process."
        )
    if config.get("CACHE_TYPE") in (None, "SimpleCache"):
        config["CACHE_TYPE"] = "RedisCache"


IMAP_SECURITIES = ("imaps", "starttls", "plain")
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


def check_imap(config: dict) -> None:
    """The mailbox password crosses the network: only over TLS, except to
    a server on this machine (a local Dovecot, the tests)."""
    if not config.get("IMAP_HOST"):
        return
    security = str(config.get("IMAP_SECURITY") or "").lower()
    if security not in IMAP_SECURITIES:
        raise ConfigError(
            f"IMAP_SECURITY={config.get('IMAP_SECURITY')!r}: use imaps (TLS from the start, "
            "port 993), starttls (port 143, then TLS) or plain (only to this machine)."
        )
    config["IMAP_SECURITY"] = security
    host = str(config["IMAP_HOST"]).strip().lower()
    if security == "plain" and not (host in LOOPBACK_HOSTS or host.startswith("127.")):
        raise ConfigError(
            f"IMAP_SECURITY=plain would send the mailbox password to {config['IMAP_HOST']} "
            "unencrypted. Use imaps or starttls; plain is allowed only for a server on this "
            "machine (localhost, 127.0.0.1, ::1)."
        )
    if not config.get("IMAP_PORT"):
        config["IMAP_PORT"] = 993 if security == "imaps" else 143


# Addresses a server listens on ("every interface"), never one a reader can open.
LISTEN_ONLY_HOSTS = {"0.0.0.0", "::"}


def check_public_base_url(url: str) -> None:
    """Every link in mail starts with PUBLIC_BASE_URL, so refuse at start one
    that gives dead links: no scheme, an empty host (`http://:5000`, what a
    Makefile variable expanded too early once produced) or 0.0.0.0."""
    parts = urlsplit(url)
    try:
        port_ok = parts.port != 0  # urlsplit raises ValueError for a port like :abc
    except ValueError:
        port_ok = False
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or not port_ok
        or parts.username is not None
        or parts.query
        or parts.fragment
        or any(char.isspace() for char in url)
    ):
        raise ConfigError(
            f"PUBLIC_BASE_URL={url!r} is not an address people can open. Give the scheme "
            "and the host, for example https://market.example.kr or http://127.0.0.1:5000: "
            "every link in emails starts with it."
        )
    if parts.hostname in LISTEN_ONLY_HOSTS:
        raise ConfigError(
            f"PUBLIC_BASE_URL={url!r} names {parts.hostname}, an address a server listens on, "
            "not one people can open. Use this machine's name or network address, for "
            "example `make run HOST=0.0.0.0 PUBLIC_BASE_URL=http://192.168.0.10:5000`."
        )


def development_secret_key(instance: Path) -> str:
    """Generated once, kept in the instance folder so sessions survive restarts."""
    key_file = instance / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key
