# syntax=docker/dockerfile:1.7
#
# One image for the whole ECL platform: the `ecl` launcher runs any set of
# targets (`ecl serve --target billing`, `--target gateway,identity`, `all`).
#
#   docker build -t ecl:latest .
#   docker run --rm -p 8080:8080 ecl:latest serve --target gateway
#
# Needs BuildKit (default since Docker 23) for the cache mounts below.

############################ builder ############################
FROM rust:1.95-bookworm AS builder

WORKDIR /src
ENV CARGO_TERM_COLOR=never \
    CARGO_INCREMENTAL=0

COPY . .

# The registry, git and target caches persist between builds on the same
# builder; the binary is copied out of the (cache-mounted) target dir inside
# the same RUN, since the mount is not part of the image.
RUN --mount=type=cache,id=ecl-cargo-registry,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,id=ecl-cargo-git,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,id=ecl-target,target=/src/target,sharing=locked \
    cargo build --release --locked --bin ecl \
 && install -D -m 0755 target/release/ecl /out/ecl

############################ runtime ############################
FROM debian:bookworm-slim AS runtime

RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*

# Fixed numeric uid/gid so Kubernetes' runAsNonRoot can verify it.
RUN groupadd --system --gid 10001 ecl \
 && useradd --system --uid 10001 --gid ecl --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin ecl

COPY --from=builder /out/ecl /usr/local/bin/ecl

ENV ECL_HTTP_ADDR=0.0.0.0:8080 \
    ECL_NAMESPACE=ecl \
    RUST_LOG=info

WORKDIR /tmp
USER 10001:10001
EXPOSE 8080

ENTRYPOINT ["ecl"]
CMD ["serve"]
