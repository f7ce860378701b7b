# The image for the web app, the Celery worker and beat and the one-off commands (docker-compose.yml).
# Three stages: the front-end is bundled with npm, the Python packages are installed into a virtualenv, and the
# runtime stage gets only that virtualenv and the libraries it loads: no compiler, no npm, no pip. It runs as an
# unprivileged user that can write only its instance directory.
# Both Python stages use the same base image, so the virtualenv's interpreter link stays valid in the runtime stage;
# bookworm is pinned so that the apt package names and PostgreSQL client version below are fixed.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# 1. Front-end bundles (bpmn-js, htmx, NL Design System CSS) into web/static/build, from package-lock.json.
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY web/assets ./web/assets
RUN npm run build --silent

# 2. The application and its dependencies in /opt/venv. Every dependency is installed from a wheel, so no compiler
# is needed; the built assets and the compiled translations are in place first, so `pip install .` packs them
# (package-data web/static/build/**, web/translations/*/LC_MESSAGES/*).
FROM ${PYTHON_IMAGE} AS python-build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore
# The virtualenv gets no pip or setuptools of its own: the base image's pip installs into it (--python).
RUN python -m venv --without-pip /opt/venv
WORKDIR /src
COPY pyproject.toml README.md ./
COPY engine ./engine
COPY web ./web
COPY --from=assets /src/web/static/build ./web/static/build
# Babel is also a dependency of Flask-Babel, so installing it first adds nothing the runtime would not have.
RUN pip --python /opt/venv/bin/python install --only-binary=:all: Babel \
    && /opt/venv/bin/pybabel compile --statistics -d web/translations \
    && pip --python /opt/venv/bin/python install --only-binary=:all: --compile . \
    && test -f /opt/venv/lib/python3.11/site-packages/web/static/build/app.js \
    && test -f /opt/venv/lib/python3.11/site-packages/web/translations/en/LC_MESSAGES/messages.mo

# 3. The runtime.
FROM ${PYTHON_IMAGE} AS runtime
# WeasyPrint renders PDFs (inzage packages, letters) with Pango, in DejaVu Sans; `zvh backup` / `zvh restore` on
# PostgreSQL run pg_dump / pg_restore, which must be at least the server's version (postgres:15 in the compose file).
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/* \
    && python -m pip uninstall --yes --quiet pip setuptools wheel \
    && groupadd --system --gid 10001 zvh \
    && useradd --system --uid 10001 --gid zvh --home-dir /var/lib/zvh --no-create-home --shell /usr/sbin/nologin zvh \
    && install -d -o zvh -g zvh -m 0750 /var/lib/zvh
COPY --from=python-build /opt/venv /opt/venv
# engine.config finds the process and form library beside the installed packages (PROJECT_ROOT), as in a checkout;
# `zvh init` deploys them from there. Owned by root: the app only reads them.
COPY processes /opt/venv/lib/python3.11/site-packages/processes
COPY forms /opt/venv/lib/python3.11/site-packages/forms
# `zvh serve` reads ZVH_WEB_WORKERS (web processes; `docker run -e ZVH_WEB_WORKERS=4 …` changes it).
# MALLOC_MMAP_THRESHOLD_: glibc returns each 19 MiB argon2 buffer to the system when a hash is done, instead of keeping
# one in every thread's arena (engine/users.py, bench/password_bench.py: 8 sign-ins at once 153 MiB -> 39 MiB).
ENV PATH=/opt/venv/bin:$PATH \
    MALLOC_MMAP_THRESHOLD_=16777216 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ZVH_INSTANCE_PATH=/var/lib/zvh \
    ZVH_WEB_WORKERS=2
WORKDIR /var/lib/zvh
USER 10001:10001
EXPOSE 5000
# The slim image has no curl: the check is an HTTP request from Python (a non-2xx answer raises, exit 1).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5000/healthz', timeout=4)"]
# The web app by default; `docker run IMAGE zvh …` runs any other command (`zvh worker`, `zvh beat`, `zvh init`,
# `zvh backup FILE`, …). The healthcheck above is the web's: docker-compose.yml gives worker and beat their own.
CMD ["zvh", "serve", "--host", "0.0.0.0", "--port", "5000"]
