# Container image of the stork-rs controller (entrypoint) and storkctl: static binaries on a distroless
# base, running as a non-root user. Build from the repository root:
#
#   docker build --build-arg VERSION=0.1.0 -t stork-rs:0.1.0 .
#
# VERSION must be the workspace version the binaries report (the build fails otherwise), so the image's
# label and `stork --version` always agree. (The machines stork-rs is developed on have no container
# engine; this file is reviewed, not built, by its CI.)
ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-alpine AS build
# musl-dev: ring's C and assembly parts; on Alpine, Rust links everything statically.
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY . .
ARG VERSION
RUN cargo build --release --locked -p stork-controller -p storkctl \
 && mkdir /out && cp target/release/stork target/release/storkctl /out/ \
 && test "$(/out/stork --version)" = "stork ${VERSION:?pass --build-arg VERSION=<workspace version>}" \
 && test "$(/out/storkctl --version)" = "storkctl ${VERSION}"

# Static distroless: CA certificates, time-zone data and a nonroot user (65532), no shell.
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION
LABEL org.opencontainers.image.title="stork-rs" \
      org.opencontainers.image.description="Kubernetes cluster pairing, migration and failover, Stork-compatible" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /out/stork /out/storkctl /usr/local/bin/
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/stork"]
