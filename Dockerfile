# syntax=docker/dockerfile:1
#
# cloudfront-facade: the gRPC sidecar for CloudFront origin access identities.
#
#   docker build -t cloudfront-facade .
#   docker run --rm -p 127.0.0.1:50051:50051 cloudfront-facade --emulator
#
# Stage 1 builds a wheelhouse: the facade's own wheel plus a wheel of every runtime
# dependency, resolved under constraints.txt when the repository has one. Stage 2 installs
# from that wheelhouse only (--no-index), so the final image gets exactly what stage 1
# resolved and no build tool, compiler or source tree. tests/ecosystem/test_image_install.py
# runs these same steps in a fresh virtual environment; keep the two in step.

FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /src
# .dockerignore is an allow-list: pyproject.toml, README.md, constraints.txt and service/.
COPY . .

# Without a constraints.txt in the repository an empty one (no constraint) stands in.
RUN set -eu; \
    [ -f constraints.txt ] || : > constraints.txt; \
    pip wheel --constraint constraints.txt --wheel-dir /wheels .; \
    cp constraints.txt /wheels/constraints.txt


FROM python:3.11-slim

LABEL org.opencontainers.image.title="cloudfront-facade" \
      org.opencontainers.image.description="gRPC sidecar for Amazon CloudFront origin access identities" \
      org.opencontainers.image.licenses="Apache-2.0"

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    CLOUDFRONT_FACADE_LISTEN=0.0.0.0:50051

# Install from the wheelhouse only; the wheels are bind-mounted, so none stays in a layer.
# The unprivileged user owns /run/cloudfront-facade so a unix socket works without a volume.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    set -eu; \
    pip install --no-cache-dir --no-index --find-links /wheels \
        --constraint /wheels/constraints.txt /wheels/cloudfront_facade-*.whl; \
    groupadd --system --gid 10001 facade; \
    useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin facade; \
    install -d -o 10001 -g 10001 -m 0750 /run/cloudfront-facade

USER 10001:10001
WORKDIR /run/cloudfront-facade
EXPOSE 50051

# The facade drains on SIGTERM for CLOUDFRONT_FACADE_SHUTDOWN_GRACE seconds (default 20):
# give `docker stop` at least that long (docker run --stop-timeout 30).
STOPSIGNAL SIGTERM

# Exit 0 only when the health service answers SERVING. With a unix socket listener,
# override it: --health-cmd 'cloudfront-facade health --target unix:/run/cloudfront-facade/facade.sock'
HEALTHCHECK --interval=10s --timeout=5s --start-period=15s --retries=3 \
    CMD ["cloudfront-facade", "health", "--target", "127.0.0.1:50051"]

ENTRYPOINT ["cloudfront-facade"]
CMD []
