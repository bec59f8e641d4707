# syntax=docker/dockerfile:1
# One replica of the service: `docker build -t hyperv-kg .` then `docker run -p 8000:8000 hyperv-kg`.
# The data (ontology/, graph/, queries/) is baked in at /app; mount another copy and set HVKG_DATA to serve it.
# See docs/operations.md for the environment variables, reloading and running several replicas.
FROM python:3.11-slim

# MALLOC_ARENA_MAX=2: glibc otherwise gives each thread that allocates its own arena, and a reload builds the new
# snapshot in a thread: resident memory then settles ~10 MiB higher per worker (bench/soak.md).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MALLOC_ARENA_MAX=2 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HVKG_PID_FILE=/tmp/hvkg.pid

WORKDIR /app

# Runtime dependencies only, at the versions of requirements.lock (which also pins the test tools).
COPY pyproject.toml requirements.lock ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/runtime.txt \
    && pip install --constraint requirements.lock --requirement /tmp/runtime.txt \
    && rm /tmp/runtime.txt

COPY README.md ./
COPY ontology ./ontology
COPY queries ./queries
COPY graph ./graph
COPY server ./server
# The `hvkg` command; editable, so the package reads its data from /app as it does from a checkout.
RUN pip install --no-deps --editable . \
    && python -m server.cli validate \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin hvkg

# by its number (the uid useradd gave it above): a name may not resolve outside the image (hadolint DL3066)
USER 10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
# SIGTERM: in-flight requests finish, then the process exits. `docker exec CONTAINER hvkg reload` reloads the data.
CMD ["hvkg", "serve", "--host", "0.0.0.0", "--port", "8000"]
