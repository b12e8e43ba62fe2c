# syntax=docker/dockerfile:1
# jessy-api (Go). Build context: the repository root.
#   docker buildx build -f dockerfiles/api.Dockerfile --target production \
#     --build-arg VERSION=1.2.3 --platform linux/amd64,linux/arm64 -t jessy-api .
#   production: docker run --read-only -v jessy-data:/data:ro \
#     -e JESSY_CORE_URL=http://jessy-core:8080 -p 3000:3000 jessy-api
#   development: docker build -f dockerfiles/api.Dockerfile --target development -t jessy-api:dev .
#     docker run -v "$PWD/services/jessy-api:/src" -v jessy-data:/data:ro -p 3000:3000 jessy-api:dev

# Base images: build arguments, so a mirror or an air-gapped registry can stand in for them
# (jessy-ci passes them from [images] of jessy-ci.toml; docker build --build-arg GO_IMAGE=…).
ARG GO_IMAGE=golang:1.26-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot

# ---- builder: native toolchain, cross-compiles for TARGETOS/TARGETARCH ----
FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS builder
WORKDIR /src
# Dependency layer first: it is rebuilt only when go.mod or go.sum change, not on every source edit.
COPY services/jessy-api/go.mod services/jessy-api/go.sum ./
RUN go mod download
# Only the Go sources (no local tmp/, bin/ or data/ from a developer's tree).
COPY services/jessy-api/*.go ./
COPY services/jessy-api/internal/ ./internal/
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/jessy-api .

# ---- development: hot reload with air on a mounted source tree ----
FROM ${GO_IMAGE} AS development
ARG AIR_VERSION=v1.67.4
RUN go install github.com/air-verse/air@${AIR_VERSION}
WORKDIR /src
COPY services/jessy-api/go.mod services/jessy-api/go.sum ./
RUN go mod download
# Sources are baked in so the image also runs alone; mount the tree over /src to hot-reload.
COPY services/jessy-api/.air.toml services/jessy-api/*.go ./
COPY services/jessy-api/internal/ ./internal/
ENV JESSY_API_PORT=3000 \
    JESSY_DATA_DIR=/data
EXPOSE 3000
CMD ["air"]

# ---- production: static binary on distroless, non-root, read-only rootfs ----
FROM ${RUNTIME_IMAGE} AS production
COPY --from=builder /out/jessy-api /usr/local/bin/jessy-api
ENV JESSY_API_PORT=3000 \
    JESSY_DATA_DIR=/data
# 65534 = "nobody" in distroless: not jessy-core's user (65532, "nonroot"), which owns the layer volume, so the
# api can read the layers and cannot write them whatever the mount flags (a Dagger cache volume has no read-only
# mount; with Docker, add :ro as well).
USER 65534:65534
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=5s --retries=3 \
    CMD ["/usr/local/bin/jessy-api", "-healthcheck"]
ENTRYPOINT ["/usr/local/bin/jessy-api"]
