# dbops in a container: a release build (the same script CI runs), then a
# slim runtime with the binary as entrypoint, running as a non-root user whose
# UID can match the owner of the files dbops manages (`--build-arg DBOPS_UID=`).
# curl is there for `[server] restart_command` through the Docker Engine API
# (examples/docker-compose).

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN bash scripts/build-release.sh

# `dbops restore-test` needs PostgreSQL's binaries of the backup's major version
# and the backup tool: `docker build --target restore-test .` is the database's
# own image with pgBackRest and dbops in it (WAL-G: add its release binary).
# It runs as root and starts the throwaway server as `postgres`.
FROM postgres:15-bookworm AS restore-test
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates pgbackrest \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/dbops /usr/local/bin/dbops
ENTRYPOINT ["dbops"]
CMD ["restore-test"]

# `dbops dump` needs pg_dump and pg_dumpall of the server's major version or
# newer: `docker build --target dump .` is PostgreSQL's own image with dbops,
# running as `postgres` (give it a volume it may write, docs/backup.md).
FROM postgres:15-bookworm AS dump
COPY --from=build /src/target/release/dbops /usr/local/bin/dbops
# The image's `postgres` user is uid 999.
USER 999
ENTRYPOINT ["dbops"]
CMD ["dump"]

FROM debian:bookworm-slim
# Debian's security updates move these versions; the base image tag pins the rest.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*
ARG DBOPS_UID=10001
RUN useradd --system --uid "${DBOPS_UID}" --create-home --home-dir /home/dbops dbops
COPY --from=build /src/target/release/dbops /usr/local/bin/dbops
USER ${DBOPS_UID}
WORKDIR /home/dbops
ENTRYPOINT ["dbops"]
CMD ["--help"]
