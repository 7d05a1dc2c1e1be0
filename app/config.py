"""Default configuration; ``instance/config.py`` and ``ATLAS_*`` variables override it."""

from __future__ import annotations

#: Languages the site offers, as BCP 47 tags, in the order of the language switcher. Each needs a
#: catalog in translations/<tag with _> (`flask --app wsgi translate init TAG`); kk-Latn's catalog
#: is generated from kk's (forms/translit.py). See translations/STATUS.md.
LANGUAGES = ["kk", "kk-Latn", "kk-Arab", "ru", "en", "zh-Hans", "tr", "mn", "uz-Latn"]
DEFAULT_LANGUAGE = "kk"

#: The database; ``DATABASE_URL`` in the environment wins. None means instance/atlas.db.
SQLALCHEMY_DATABASE_URI = None
#: Check a pooled connection before use: a PostgreSQL restart or a killed backend costs one
#: retry on the spot, not a 500.
SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
#: Seconds a SQLite writer waits for another writer before giving up.
SQLITE_BUSY_TIMEOUT = 30

#: Responses are compressed (Flask-Compress) for clients that accept it: a survey page goes from
#: about 20 KB to 6 KB, which matters on slow links. Downloads (streamed files) are sent as
#: they are: CSV exports are zipped already. No page reflects a query parameter next to a
#: secret (resume tokens are in the path), so compression gives a network observer nothing to
#: compare lengths with (BREACH).
COMPRESS_ALGORITHM = ["gzip"]
COMPRESS_MIMETYPES = [
    "text/html", "text/css", "text/javascript", "application/javascript", "application/json",
    "application/geo+json", "image/svg+xml",
]  # fmt: skip
COMPRESS_MIN_SIZE = 500
COMPRESS_STREAMS = False

#: Largest request body accepted, in bytes; larger ones get 413.
MAX_CONTENT_LENGTH = 512 * 1024
#: A respondent may pause for hours: the CSRF token lives as long as the session cookie.
WTF_CSRF_TIME_LIMIT = None
WTF_CSRF_SSL_STRICT = False

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
#: Off only for plain-HTTP local runs (`make run` turns it off).
SESSION_COOKIE_SECURE = True
PERMANENT_SESSION_LIFETIME = 12 * 3600
#: Workspace sessions end after 30 minutes without a request, and 12 hours after sign-in.
SESSION_IDLE_TIMEOUT = 30 * 60
SESSION_ABSOLUTE_TIMEOUT = 12 * 3600

#: Sign-in throttling, as OWASP's Authentication Cheat Sheet describes (app/accounts/throttle.py).
#: Failures are counted per account and address, or per account and browser it knows; past
#: LOGIN_FAILURES_BEFORE_DELAY of them each further failure makes that pair wait twice as long,
#: from LOGIN_DELAY seconds up to LOGIN_DELAY_MAX. A pair's failures are forgotten when it signs
#: in, and every failure after LOGIN_FAILURE_MEMORY seconds.
LOGIN_FAILURES_BEFORE_DELAY = 5
LOGIN_DELAY = 60
LOGIN_DELAY_MAX = 3600
LOGIN_FAILURE_MEMORY = 24 * 3600
#: Within LOGIN_LOCK_WINDOW seconds, this many failures on one account from browsers it does
#: not know lock it to such browsers (a known browser still gets in with the right password,
#: and so does an admin-issued one-time password), and this many from one address over all
#: accounts (password spraying) lock that address out.
LOGIN_LOCK_WINDOW = 15 * 60
LOGIN_ACCOUNT_LOCK_FAILURES = 20
LOGIN_ADDRESS_LOCK_FAILURES = 50
#: A browser is known to an account for this many days after it last signed in there (a signed
#: "device cookie" holding the account and a random nonce).
DEVICE_COOKIE_DAYS = 365

#: How many reverse proxies in front of the app append the client's address to X-Forwarded-For
#: (Werkzeug's ProxyFix ``x_for``). 0: no proxy, the header is ignored and the peer address is the
#: client's. Set it to the number of proxies you run, never more: a client can write the header.
PROXY_FIX_X_FOR = 0

#: The public address used in links, QR codes and e-mails; never taken from the Host header.
BASE_URL = "http://127.0.0.1:5000"

#: Rate limits for anonymous traffic (Flask-Limiter syntax), per client address unless said
#: otherwise. Storage: Redis when REDIS_URL is set. They bound how fast one client can add
#: responses (see the README's privacy section for what that costs an attacker).
REDIS_URL = None
#: Whole responses through the JSON API.
RATELIMIT_SUBMISSIONS = "10 per minute; 200 per day"
#: Questionnaires started (consent given) in the browser.
RATELIMIT_DRAFTS = "10 per minute; 200 per day"
#: Pages sent within one questionnaire (per resume token, whatever the address).
RATELIMIT_DRAFT_PAGES = "60 per minute; 600 per day"
#: Responses sent through one distribution link from one address.
RATELIMIT_LINK_SUBMISSIONS = "20 per day"
RATELIMIT_HEADERS_ENABLED = True
#: Opening distribution links (/l/<code>): per address, and per link whatever the address.
RATELIMIT_LINK_ADDRESS = "30 per minute"
RATELIMIT_LINK = "600 per minute"
#: Place lookups of the location question's script (/api/v1/places/*), per address, all together.
RATELIMIT_PLACES = "120 per minute"
#: A consent form sent sooner than this after the page was served is refused (naive bots).
MIN_FILL_SECONDS = 3
#: Days a coordinator's invitation link stays valid.
INVITATION_DAYS = 7

#: Small-cell threshold for published figures and for the analyst workspace: a cell is shown
#: only when it holds this many independent respondents (geo/disclosure.py, app/privacy.py).
K_PUBLISHED = 10
K_ANALYST = 5
#: A response sent from the same address within this many minutes of the previous one is not
#: independent: it is counted, but never makes a cell reach k (app/sources.py).
SOURCE_WINDOW_MINUTES = 60
#: After a withdrawal, what the same address sends for this many hours is not independent.
WITHDRAWAL_HOLD_HOURS = 24

#: Questionnaires loaded by `make run` and `atlas load-questionnaire` without a path.
BUNDLED_QUESTIONNAIRES = "forms/questionnaires"

#: Exports and the specialists registry (app/data): responses older than this many days lose
#: their free-text answers, e-mail, city and coordinates (`flask atlas apply-retention`); the
#: consent statement promises at most five years after the survey closes.
RETENTION_DAYS = 3 * 365
#: Unsubmitted drafts untouched for this many days are deleted by the same command.
DRAFT_RETENTION_DAYS = 30

#: Countries shown at country level only on maps and profiles (respondents there risk harm if
#: located): no region or city of theirs is ever listed.
HIGH_RISK_COUNTRIES = ["CN"]
#: Where `atlas build-maps` writes the published maps; None means instance/maps.
MAPS_DIR = None
