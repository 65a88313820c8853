# Container image for the stork-rs controller and storkctl.
# (This machine has no Docker engine; the image build is not exercised by CI.)
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p stork-controller -p storkctl

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/stork /src/target/release/storkctl /usr/local/bin/
USER 65532
ENTRYPOINT ["/usr/local/bin/stork"]
