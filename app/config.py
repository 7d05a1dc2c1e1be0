"""Default configuration; ``instance/config.py`` and ``ATLAS_*`` variables override it."""

from __future__ import annotations

#: Languages the site offers, as BCP 47 tags, in the order of the language switcher. Each needs a
#: catalog in translations/<tag with _> (`flask --app wsgi translate init TAG`); kk-Latn's catalog
#: is generated from kk's (forms/translit.py). See translations/STATUS.md.
LANGUAGES = ["kk", "kk-Latn", "kk-Arab", "ru", "en", "zh-Hans", "tr", "mn", "uz-Latn"]
DEFAULT_LANGUAGE = "kk"

#: The database; ``DATABASE_URL`` in the environment wins. None means instance/atlas.db.
SQLALCHEMY_DATABASE_URI = None
SQLALCHEMY_ENGINE_OPTIONS: dict = {}
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

#: Small-cell threshold for published figures and for the analyst workspace.
K_PUBLISHED = 10
K_ANALYST = 5

#: Questionnaires loaded by `make run` and `atlas load-questionnaire` without a path.
BUNDLED_QUESTIONNAIRES = "forms/questionnaires"
