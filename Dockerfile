# One image for the four services: `buddy serve <service>` picks which one runs.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    BUDDY_DATA_DIR=/var/lib/buddy

WORKDIR /src

# Package metadata and pinned versions first, then the code.
COPY pyproject.toml constraints.txt ./
COPY shared/ ./shared/
COPY services/ ./services/
RUN pip install -c constraints.txt . \
 && rm -rf /src/build /src/*.egg-info

RUN groupadd --system --gid 10001 buddy \
 && useradd --system --uid 10001 --gid buddy --home-dir /var/lib/buddy --no-create-home --shell /usr/sbin/nologin buddy \
 && mkdir -p /var/lib/buddy \
 && chown buddy:buddy /var/lib/buddy

WORKDIR /var/lib/buddy
USER 10001:10001

EXPOSE 8001 8002 8003 8004
ENTRYPOINT []
CMD ["buddy", "--help"]
