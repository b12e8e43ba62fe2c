# jessy-core image. Build context: the repository root.
#   docker buildx build -f dockerfiles/core.Dockerfile --platform linux/amd64,linux/arm64 \
#     --target production -t jessy-core .
# Stages: builder (release binary, cross-compiled natively, no emulation),
#         development (cargo watch on a mounted source tree), production (distroless).

# Base images: build arguments, so a mirror or an air-gapped registry can stand in for them
# (jessy-ci passes them from [images] of jessy-ci.toml; docker build --build-arg RUST_IMAGE=…).
ARG RUST_IMAGE=rust:1.95-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

# ---------------------------------------------------------------------------
FROM --platform=$BUILDPLATFORM ${RUST_IMAGE} AS builder
ARG TARGETPLATFORM
ARG TARGETARCH
SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# Every linker is named explicitly; on a native build it is the host gcc.
ENV CARGO_TARGET_DIR=/build/target \
    CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
    CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER=x86_64-linux-gnu-gcc \
    CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc \
    CC_x86_64_unknown_linux_gnu=x86_64-linux-gnu-gcc

# Map TARGETARCH to a Rust target; install the cross gcc + libc and the Rust
# target only when it differs from the build host. The triple goes to /rust-target.
# DL3008: the cross toolchain follows Debian bookworm's point releases; exact
# version pins would break the build whenever the archive moves on.
# hadolint ignore=DL3008
RUN set -eux; \
    host="$(rustc -vV | sed -n 's/^host: //p')"; \
    case "${TARGETARCH:-}" in \
      amd64) target=x86_64-unknown-linux-gnu; cross_gcc=gcc-x86-64-linux-gnu; cross_libc=libc6-dev-amd64-cross ;; \
      arm64) target=aarch64-unknown-linux-gnu; cross_gcc=gcc-aarch64-linux-gnu; cross_libc=libc6-dev-arm64-cross ;; \
      "") target="$host" ;; \
      *) echo "unsupported TARGETARCH=${TARGETARCH} (TARGETPLATFORM=${TARGETPLATFORM:-}); expected amd64 or arm64" >&2; exit 1 ;; \
    esac; \
    if [ "$target" != "$host" ]; then \
      apt-get update; \
      apt-get install -y --no-install-recommends "$cross_gcc" "$cross_libc"; \
      rm -rf /var/lib/apt/lists/*; \
      rustup target add "$target"; \
    fi; \
    echo "$target" > /rust-target; \
    echo "building for $target on $host"

WORKDIR /src/services/jessy-core

# Dependencies only: cached until Cargo.toml or Cargo.lock change.
COPY services/jessy-core/Cargo.toml services/jessy-core/Cargo.lock ./
RUN mkdir -p src benches \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && echo 'fn main() {}' > benches/layers.rs \
    && cargo build --release --locked --target "$(cat /rust-target)" \
    && rm -rf src benches

# The service itself. touch: the copied sources may be older than the dummy build.
COPY services/jessy-core/src ./src
COPY services/jessy-core/benches ./benches
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked --target "$(cat /rust-target)" \
    && mkdir -p /out/data \
    && cp "${CARGO_TARGET_DIR}/$(cat /rust-target)/release/jessy-core" /out/jessy-core

# ---------------------------------------------------------------------------
# Local development: mount the service source at the workdir, e.g.
#   docker run -v "$PWD/services/jessy-core:/src/services/jessy-core" -p 8080:8080 <image>
FROM builder AS development
RUN CARGO_TARGET_DIR=/tmp/cargo-install cargo install --locked cargo-watch@8.5.3 \
    && rm -rf /tmp/cargo-install \
    && mkdir -p /data
ENV JESSY_DATA_DIR=/data \
    JESSY_CORE_PORT=8080
EXPOSE 8080
CMD ["cargo", "watch", "-x", "run"]

# ---------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS production
LABEL org.opencontainers.image.title="jessy-core" \
      org.opencontainers.image.description="Jessy core service: dimensional layers stored as memory-mapped files"
COPY --from=builder /out/jessy-core /usr/local/bin/jessy-core
# /data must exist and belong to the runtime user so a fresh named volume is writable.
COPY --from=builder --chown=65532:65532 /out/data /data
USER 65532:65532
ENV JESSY_DATA_DIR=/data \
    JESSY_CORE_PORT=8080
EXPOSE 8080
VOLUME /data
HEALTHCHECK --interval=15s --timeout=5s --start-period=5s --retries=3 \
    CMD ["/usr/local/bin/jessy-core", "--healthcheck"]
ENTRYPOINT ["/usr/local/bin/jessy-core"]
