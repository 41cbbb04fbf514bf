# The sharebus image: the CLI, run as the fan-out worker by default
# (`docker compose up` builds it for the `worker` service).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The dependencies ship manylinux wheels for CPython 3.11 (x86_64), so no compiler is installed.
# The source is only needed to build the project's own wheel; it is removed afterwards.
WORKDIR /tmp/sharebus-src
COPY . .
RUN pip install --no-cache-dir . \
    && cd / \
    && rm -rf /tmp/sharebus-src

# Settings default to folders beside the source tree, which an installed package has not:
# the governance YAML and faust's state get fixed places in the image instead.
WORKDIR /app
COPY examples/ ./examples/
ENV SHAREBUS_WORKER_GOVERNANCE_DIR=/app/examples/governance \
    SHAREBUS_WORKER_DATA_DIR=/app/data

# Not root: the worker needs to write only its own state folder.
RUN useradd --system --create-home --uid 10001 --user-group sharebus \
    && mkdir -p /app/data \
    && chown sharebus:sharebus /app/data
USER sharebus

ENTRYPOINT ["sharebus"]
CMD ["worker"]
