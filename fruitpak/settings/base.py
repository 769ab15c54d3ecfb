"""Production settings. Everything comes from the environment.

The defaults here are the safe ones: DEBUG is off, cookies are secure, and
SECRET_KEY and DATABASE_URL must be given. The development profile
(`fruitpak.settings.dev`) and the test profile (`fruitpak.settings.test`)
fill in local defaults before importing this module.
"""

from datetime import timedelta
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY")
# The Domain table is the real allow-list of tenant hosts; ALLOWED_HOSTS is the
# outer fence (e.g. ".fruitpak.example"). A host outside either gets our 404.
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- Tenancy -----------------------------------------------------------------

SHARED_APPS = [
    "django_tenants",
    "tenants",
    "accounts",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.admin",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Login attempts, per schema: the platform admin's on public, each company's in its own.
    "axes",
    # The job queue: one set of tables, in public. A job names its company's schema (core/jobs.py).
    "procrastinate.contrib.django",
]

TENANT_APPS = [
    "accounts",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.admin",
    "seasons",
    "packhouses",
    "growers",
    "batches",
    "pallets",
    "dispatch",
    "pools",
    "payments",
    "onboarding",
    "reconciliation",
    "axes",
]

THIRD_PARTY_APPS = [
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "django_guid",
]

INSTALLED_APPS = SHARED_APPS + [
    app for app in TENANT_APPS + THIRD_PARTY_APPS if app not in SHARED_APPS
] + [
    # No tables, so in neither schema list: setup_demo and seed_demo only.
    "demo",
]

# The seed report's index names (ix_batches_grower_harvest_status, ...) are kept
# verbatim. Django limits index names to 30 characters for Oracle's sake;
# PostgreSQL allows 63.
SILENCED_SYSTEM_CHECKS = ["models.E034"]

TENANT_MODEL = "tenants.Company"
TENANT_DOMAIN_MODEL = "tenants.Domain"
PUBLIC_SCHEMA_URLCONF = "fruitpak.urls_public"
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
# Issue `SET search_path` once per connection and tenant switch, not before
# every statement. django-tenants forgets the setting on rollback and when a
# pooled connection is returned, so it is re-issued whenever it may be lost.
TENANT_LIMIT_SET_CALLS = True
# migrate_schemas: each schema in one transaction, stopping at the first that
# fails and naming it and its migration (tenants/migration_executor.py).
GET_EXECUTOR_FUNCTION = "tenants.migration_executor.get_executor"
TENANT_BASE_MIGRATE_COMMAND = "tenants.migration_executor.ProgressMigrateCommand"
# The public host, where platform staff use the platform admin.
PUBLIC_DOMAIN = env.str("PUBLIC_DOMAIN", default="localhost")

# The shortcut that answers a token's repeated GET of a cached list from Redis alone (core/fastpath/).
# Off, every request goes through DRF, and the lists are still cached.
CACHED_PAGE_FAST_PATH = env.bool("CACHED_PAGE_FAST_PATH", default=True)

MIDDLEWARE = [
    # First, so every response is counted and timed, fast-path answers included; answers /metrics on any
    # host, to loopback or a Bearer METRICS_TOKEN (core/metrics/, docs/OBSERVABILITY.md).
    "core.metrics.middleware.MetricsMiddleware",
    # Health answers before anything looks at the host, the database or Redis.
    "core.middleware.HealthCheckMiddleware",
    # A NUL byte in the query string is a 400 before anything reads it (PostgreSQL cannot compare it).
    "core.middleware.NulByteQueryMiddleware",
    # Cached API list pages: stored with the headers the middleware below gives them, and answered
    # from Redis alone to a Bearer token when the stack would answer the same (core/fastpath/).
    # It gives its own answers their request id, as django-guid does. Off: CACHED_PAGE_FAST_PATH.
    "core.fastpath.middleware.CachedPageMiddleware",
    # Below the fast path, so the pages it stores carry Cache-Control: no-store, private too.
    "core.middleware.NoStoreMiddleware",
    # X-Request-ID in and out, then the request kept for the log filter (core/audit.py).
    "django_guid.middleware.guid_middleware",
    "core.audit.AuditMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    # Static files are the same on every host, so they are served before routing.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "tenants.middleware.TenantMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A form posted after the session ended comes back filled in after the login (core/stash.py).
    "core.stash.StashExpiredPostMiddleware",
    # Inside auth and messages: an empty 405 becomes a page with the navigation (core/middleware.py).
    "core.middleware.MethodNotAllowedPageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a login refused by axes into our lockout page or JSON (accounts/lockout.py).
    "axes.middleware.AxesMiddleware",
]
# JSON under /api/, the "form expired" page elsewhere.
CSRF_FAILURE_VIEW = "core.views.csrf_failure"

ROOT_URLCONF = "fruitpak.urls"
WSGI_APPLICATION = "fruitpak.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.stash.stashed_form",
            ],
            # |kg, |money and |number on every page without a {% load %}: numbers show in the company's locale.
            "libraries": {"numbers": "core.templatetags.numbers"},
            "builtins": ["core.templatetags.numbers"],
        },
    },
]

# --- Database ----------------------------------------------------------------


def database_from_env(env):
    """DATABASE_URL plus the connection pool every process keeps.

    Django's built-in psycopg pool replaces persistent connections
    (CONN_MAX_AGE must stay 0 with it). With CONN_HEALTH_CHECKS the pool
    pings a connection before handing it out, so a restarted PostgreSQL is
    reconnected without restarting the app.
    """
    config = env.db_url("DATABASE_URL", engine="django_tenants.postgresql_backend")
    options = config.setdefault("OPTIONS", {})
    options.setdefault("connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=3))
    options["pool"] = {
        "min_size": env.int("DB_POOL_MIN", default=1),
        "max_size": env.int("DB_POOL_MAX", default=4),
        "timeout": env.float("DB_POOL_TIMEOUT", default=5.0),
        # psycopg_pool retries a lost server with doubling delays (1, 2, 4 ... s) for 5 minutes, so after
        # a 36 s outage the next attempt came 24 s after PostgreSQL was back. Giving up a round after 5 s
        # lets the next request start a new one at once: attempts stay at most 2 s apart
        # (docs/RELIABILITY.md, make chaos).
        "reconnect_timeout": env.float("DB_POOL_RECONNECT_TIMEOUT", default=5.0),
    }
    config["CONN_MAX_AGE"] = 0
    config["CONN_HEALTH_CHECKS"] = True
    milliseconds = round(statement_timeout(env) * 1000)
    if milliseconds > 0:
        # Set once per connection, at connect: no statement of its own per request, and a pooled
        # connection keeps it. A statement over the limit is cancelled and the request answers 503.
        options["options"] = f"{options.get('options', '')} -c statement_timeout={milliseconds}".strip()
    return config


def statement_timeout(env):
    """Seconds a statement may run (0: no limit): DB_STATEMENT_TIMEOUT in a web process, where a runaway
    query must not hold a backend after gunicorn gave up on it; DB_COMMAND_STATEMENT_TIMEOUT in commands
    (migrate, seed_demo, refresh_intake_view, backups, the job worker), which may run long on purpose.

    FRUITPAK_PROCESS=web is set by fruitpak/wsgi.py, which every web process (gunicorn in make run,
    make serve, the Dockerfile, the browser tests) loads.
    """
    if env.str("FRUITPAK_PROCESS", default="") == "web":
        return env.float("DB_STATEMENT_TIMEOUT", default=5.0)
    return env.float("DB_COMMAND_STATEMENT_TIMEOUT", default=0.0)


DB_STATEMENT_TIMEOUT = statement_timeout(env)


DATABASES = {"default": database_from_env(env)}
# django-tenants' backend wraps this one: Django's, loading timestamps with psycopg's C parser (core/postgresql).
ORIGINAL_BACKEND = "core.postgresql"
FAST_TIMESTAMP_LOADER = env.bool("FAST_TIMESTAMP_LOADER", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache -------------------------------------------------------------------


def cache_from_env(env):
    """django-redis with tenant-prefixed keys, or no cache when REDIS_URL is empty.

    IGNORE_EXCEPTIONS makes an unreachable Redis a cache miss plus a log line,
    never an error. The timeouts are short so a dead Redis costs little.
    """
    redis_url = env.str("REDIS_URL", default="")
    tenant_keys = {
        "KEY_FUNCTION": "core.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        "TIMEOUT": 300,
    }
    if not redis_url:
        return {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache", **tenant_keys}}
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": redis_url,
            **tenant_keys,
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": env.float("REDIS_CONNECT_TIMEOUT", default=0.25),
                "SOCKET_TIMEOUT": env.float("REDIS_SOCKET_TIMEOUT", default=0.25),
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }


CACHES = cache_from_env(env)
DJANGO_REDIS_IGNORE_EXCEPTIONS = True
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

# Sessions live in the tenant's database only. A cached_db session could be
# resurrected from Redis after a logout made during a Redis outage.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# --- Auth --------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out client before the password is even checked.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, but the session's user comes with their permissions in the same query.
    "accounts.authentication.UserWithPermissionsBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Tenant defaults ---------------------------------------------------------

DEFAULT_CURRENCY = env.str("DEFAULT_CURRENCY", default="ZAR")
DEFAULT_TIME_ZONE = env.str("DEFAULT_TIME_ZONE", default="Africa/Johannesburg")

# --- I18N / time -------------------------------------------------------------

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files --------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Security ------------------------------------------------------------------

# TLS ends at nginx, which sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# On by default, so the production profile passes `check --deploy` as shipped. Plain-HTTP runs on one
# machine (the dev profile, scripts/serve.py, scripts/chaos.py) turn it off with the secure cookies and HSTS.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# A probe that reaches gunicorn without nginx (the Docker HEALTHCHECK) has no X-Forwarded-Proto. /health is
# answered above SecurityMiddleware anyway; this keeps it so should the middleware order change.
SECURE_REDIRECT_EXEMPT = [r"^health(/ready)?/?$"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
SESSION_COOKIE_HTTPONLY = True
# Never set SESSION_COOKIE_DOMAIN: cookies stay host-only, one tenant per host.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
# Every company is a subdomain, all served over TLS.
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Never set CSRF_COOKIE_DOMAIN either: a company's CSRF cookie is its host's alone.

# django-csp 4: no inline script or style anywhere, no framing. Pages, the
# admin and the API docs satisfy it (browser/test_csp.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # The docket's QR code and Swagger UI's icons are data: URIs.
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Behind nginx the client is the X-Forwarded-For entry nginx appended; without
# a proxy (0) it is REMOTE_ADDR. Lockout and throttling both use this rule.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)

# --- Brute force (django-axes) ---------------------------------------------------

# The database handler: attempts live in the tenant's schema, so the lockout
# survives a Redis outage and one company's attempts never lock another's.
# Ours counts each way below against its own limit (accounts/lockout.py,
# docs/SECURITY.md "Brute force").
AXES_HANDLER = "accounts.lockout.LockoutHandler"
# Per (account, address): the rightful user mistyping, or one attacker guessing.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
# Per address, whatever the accounts: one address spraying guesses. Higher than
# the pair's, since a packhouse's staff share one address.
AXES_ADDRESS_FAILURE_LIMIT = env.int("AXES_ADDRESS_FAILURE_LIMIT", default=20)
# Per account, whatever the addresses: guesses spread over many addresses. It
# never applies from an address the account logged in from within
# KNOWN_ADDRESS_DAYS, so nobody can lock the rightful user out of it.
AXES_ACCOUNT_FAILURE_LIMIT = env.int("AXES_ACCOUNT_FAILURE_LIMIT", default=30)
KNOWN_ADDRESS_DAYS = env.int("KNOWN_ADDRESS_DAYS", default=30)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
# What axes records; the handler above decides with its own limits.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address", "username"]
# A failure while locked is refused and not recorded: neither an attacker nor the
# user retrying can push the end of a lockout further away.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A success does not wipe the count: with the address as a parameter, any valid
# login from a shared address would otherwise reset an attacker's count there.
AXES_RESET_ON_SUCCESS = False
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "accounts.lockout.username_of"
AXES_CLIENT_IP_CALLABLE = "core.clients.client_ip_address"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.locked_out"
# Successful logins are in the audit log; a row per login would only grow.
AXES_DISABLE_ACCESS_LOG = True
# A row per failure would grow without limit too; failures are in the audit log.
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_SENSITIVE_PARAMETERS = ["username", "email", "ip_address"]
# Login POSTs per address to /login/ and /admin/login/, counted in Redis before
# any password is checked (accounts.lockout.login_rate_limited; fails open).
# nginx.conf limits the same paths.
LOGIN_THROTTLE_RATE = env.str("LOGIN_THROTTLE_RATE", default="20/minute")

# --- API -----------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # First, so that a request without credentials gets 401 with WWW-Authenticate.
        "accounts.authentication.TenantJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.permissions.RolePermissions"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.EnvelopePagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "core.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "COERCE_DECIMAL_TO_STRING": True,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Counted in Redis; with Redis down a throttle reads nothing and lets the request through.
    "DEFAULT_THROTTLE_CLASSES": ["core.throttling.AnonThrottle", "core.throttling.UserThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/minute"),
        "user": env.str("API_THROTTLE_USER", default="1200/minute"),
    },
    # 0 included: DRF reads 0 as "REMOTE_ADDR", and None as "the whole client-supplied X-Forwarded-For".
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ALGORITHM": "HS256",
    "SIGNING_KEY": SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    # Tokens minted before a password change stop working.
    "CHECK_REVOKE_TOKEN": True,
    "REVOKE_TOKEN_CLAIM": "hash_password",
    "UPDATE_LAST_LOGIN": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "FruitPAK API",
    "DESCRIPTION": (
        "The integrator API of one FruitPAK company: its host is the company. Log in with "
        "POST /api/auth/login, then send `Authorization: Bearer <access_token>`. Lists return "
        "`{items, total, limit, offset}`; errors return `{detail, code, errors?}`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "FruitTypeEnum": "growers.models.FruitType",
        "StatusEnum": "batches.models.Status",
        "PaymentTypeEnum": "payments.models.PaymentType",
        "GradeEnum": "payments.models.Grade",
        "PalletGradeEnum": "pallets.models.Grade",
        "PalletStatusEnum": "pallets.models.PalletStatus",
        "LoadStatusEnum": "dispatch.models.LoadStatus",
        "PoolStatusEnum": "pools.models.PoolStatus",
        "PoolClosingStatusEnum": "pools.models.ClosingStatus",
        "PaymentRunStatusEnum": "payments.models.RunStatus",
        "ChargeKindEnum": "pools.models.ChargeKind",
        "ChargeBasisEnum": "pools.models.ChargeBasis",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.add_error_responses",
        "core.openapi.allow_empty_query_values",
        "core.openapi.require_decimal_digits",
        "core.openapi.bound_query_dates",
        "core.openapi.refuse_nul_in_query_strings",
    ],
}

# --- Background jobs (procrastinate) ---------------------------------------------

# `manage.py procrastinate worker` runs them: beside gunicorn in `make run`, as its own service in
# docker-compose. Succeeded jobs are deleted, failed ones stay in procrastinate_jobs to be looked at.
#
# A worker that dies mid-job (kill -9, a lost container) leaves its job "doing". Every worker updates its
# heartbeat every JOB_HEARTBEAT_SECONDS; core.jobs.retry_stalled_jobs, a periodic task, puts a job whose
# worker has been silent for JOB_STALLED_SECONDS back in the queue (docs/RELIABILITY.md, make chaos).
JOB_HEARTBEAT_SECONDS = env.float("JOB_HEARTBEAT_SECONDS", default=10.0)
JOB_STALLED_SECONDS = env.float("JOB_STALLED_SECONDS", default=30.0)
# Cron of that check; croniter takes a sixth field for seconds ("* * * * * */2", make chaos).
JOB_RETRY_STALLED_CRON = env.str("JOB_RETRY_STALLED_CRON", default="* * * * *")
PROCRASTINATE_WORKER_DEFAULTS = {
    "delete_jobs": "successful",
    "update_heartbeat_interval": JOB_HEARTBEAT_SECONDS,
    "stalled_worker_timeout": JOB_STALLED_SECONDS,
}
# Task modules beyond each app's tasks.py: core's (retry_stalled_jobs, as core is no installed app), and
# EXTRA_TASK_MODULES (make chaos adds its probe task).
PROCRASTINATE_IMPORT_PATHS = ["core.jobs", *env.list("EXTRA_TASK_MODULES", default=[])]
# After an intake, daily_grower_intake is refreshed this many seconds later: a burst of intakes in that
# window gives one refresh (reconciliation/tasks.py).
INTAKE_VIEW_REFRESH_SECONDS = env.float("INTAKE_VIEW_REFRESH_SECONDS", default=30)

# --- Metrics ---------------------------------------------------------------------

# A Bearer token that may read /metrics from anywhere nginx lets through (empty: loopback only).
# Under gunicorn the workers' numbers add up through PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# --- Logging -------------------------------------------------------------------

# A request id comes in (X-Request-ID, e.g. nginx's $request_id) or is made,
# and goes back out in the response. Anything not a UUID is replaced.
DJANGO_GUID = {
    "GUID_HEADER_NAME": "X-Request-ID",
    "VALIDATE_GUID": True,
    "RETURN_HEADER": True,
    "EXPOSE_HEADER": True,
    "UUID_FORMAT": "hex",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "core.audit.ContextFilter"}},
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s request_id=%(request_id)s tenant=%(tenant)s "
                      "user=%(user)s %(message)s",
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["context"]}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django_redis": {"level": "WARNING"},
        "django_tenants": {"level": "WARNING"},
        # Axes repeats what the audit log says, with the address in clear; warnings only.
        "axes": {"level": "WARNING"},
        # One line per request about the request id.
        "django_guid": {"level": "WARNING"},
        # Task registration, said by every process at start-up.
        "procrastinate.blueprints": {"level": "WARNING"},
        "procrastinate.periodic": {"level": "WARNING"},
        "fruitpak.audit": {"level": "INFO"},
    },
}
