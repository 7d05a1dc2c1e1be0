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

#: The public address used in links, QR codes and e-mails; never taken from the Host header.
BASE_URL = "http://127.0.0.1:5000"

#: Rate limits for anonymous traffic (Flask-Limiter syntax). Storage: Redis when REDIS_URL is set.
REDIS_URL = None
RATELIMIT_SUBMISSIONS = "60 per minute"
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

#: Small-cell threshold for published figures and for the analyst workspace.
K_PUBLISHED = 10
K_ANALYST = 5

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
