# jira-gate container image: a static musl binary on an empty base, with CA certificates, a
# busybox /bin/sh (GitLab runs job scripts with sh) and a non-root user.
#
#   podman build --target runtime -t jira-gate .   # the image for GitLab, docker run, Kubernetes
#   podman build -t jira-gate-action .             # the last stage: what action.yml builds
#
# Behind a TLS-re-signing proxy, mount the host's CA bundle for the build only, e.g.
#   podman build -v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro ...
# The image never contains that bundle: its own is assembled from Debian's ca-certificates.

ARG RUST_IMAGE=docker.io/library/rust:1-slim-bookworm

FROM ${RUST_IMAGE} AS build
ARG TARGET=x86_64-unknown-linux-musl
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# musl-tools: ring compiles C for the musl target; busybox-static: the image's /bin/sh.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates musl-tools busybox-static \
    && rm -rf /var/lib/apt/lists/*
RUN rustup target list --installed | grep -qx "${TARGET}" || rustup target add "${TARGET}"
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
# The workspace: the sandbox crate is a default feature (`sandbox` and `demo`).
COPY crates ./crates
COPY steps/demo.yml steps/demo-jsm.yml ./steps/
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --target "${TARGET}" \
    && install -D -m 0755 "target/${TARGET}/release/jira-gate" /out/usr/local/bin/jira-gate
# The root filesystem of the final image: CA bundle, busybox with its applets, passwd/group,
# a writable /tmp and a home for the non-root user.
RUN set -eu; \
    mkdir -p /out/bin /out/etc/ssl/certs /out/tmp /out/home/jira-gate /out/work; \
    cat /usr/share/ca-certificates/mozilla/*.crt > /out/etc/ssl/certs/ca-certificates.crt; \
    cp /bin/busybox /out/bin/busybox; \
    for applet in $(/bin/busybox --list); do \
        [ "${applet}" = busybox ] || ln -s busybox "/out/bin/${applet}"; \
    done; \
    printf 'root:x:0:0:root:/root:/bin/sh\njira-gate:x:10001:10001:jira-gate:/home/jira-gate:/bin/sh\n' > /out/etc/passwd; \
    printf 'root:x:0:\njira-gate:x:10001:\n' > /out/etc/group; \
    chmod 1777 /out/tmp; \
    chown 10001:10001 /out/home/jira-gate /out/work; \
    /out/usr/local/bin/jira-gate --version

FROM scratch AS runtime
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="jira-gate" \
      org.opencontainers.image.description="A pipeline approval step for Jira: create or update a ticket, wait for its approval, exit with a code the pipeline acts on" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0" \
      org.opencontainers.image.source="https://github.com/jira-gate/jira-gate" \
      org.opencontainers.image.documentation="https://github.com/jira-gate/jira-gate/blob/main/docs/CI.md"
COPY --from=build /out/ /
ENV PATH=/usr/local/bin:/bin \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    HOME=/home/jira-gate
WORKDIR /work
USER 10001:10001
ENTRYPOINT ["jira-gate"]
CMD ["run"]

# GitHub runs Docker container actions as root and creates $GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY
# and the workspace owned by the runner's user, so a non-root container cannot append to them.
# action.yml builds this last stage; everything else uses the `runtime` target above.
FROM runtime AS action
# hadolint ignore=DL3002
USER 0:0
