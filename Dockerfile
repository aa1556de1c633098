# APsystems ECU Proxy — Home Assistant app (add-on) image.
#
# The same image with or without build arguments: BUILD_FROM defaults to Home Assistant's
# multi-arch Debian base, which is what Supervisor 2026.04+ builds from when it passes no
# BUILD_FROM; older Supervisors pass BUILD_FROM from build.yaml (the same image). Debian flavour,
# so Node.js is Debian's `nodejs` package (trixie: Node 20) — and so the container smoke test can
# build this very file on a stand-in base made from Debian packages (scripts/standin-base.sh).
ARG BUILD_FROM=ghcr.io/home-assistant/base-debian:trixie

# --- build stage: compile the TypeScript, then keep production dependencies only -------------
FROM ${BUILD_FROM} AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# Optional packages include esbuild's native binary for this architecture: the bundler needs it.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/bundle.mjs ./scripts/
COPY src ./src
RUN npm run build

# --- runtime: Node, the bundle (it holds every dependency), the page, package.json ----------
FROM ${BUILD_FROM}
RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs \
    && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/dist/ecu-proxy.js ./dist/
COPY --from=build /app/dist/status/page ./dist/status/page
COPY rootfs /
COPY run.sh /run.sh
# `ecu-proxy simulate` etc. for `docker exec` (see DOCS.md, "check that it works").
RUN chmod 755 /app/dist/ecu-proxy.js && ln -s /app/dist/ecu-proxy.js /usr/local/bin/ecu-proxy

# Healthy = the first ECU port accepts a TCP connection (ECU_PROXY_PORTS is only set by the
# container smoke test). The Supervisor watches this instead of a config.yaml `watchdog`.
HEALTHCHECK --interval=60s --timeout=10s --start-period=30s --retries=3 \
    CMD ["node", "-e", "const p=Number((process.env.ECU_PROXY_PORTS||'8995').split(',')[0]);const s=require('node:net').connect(p,'127.0.0.1');s.on('connect',()=>{s.destroy();process.exit(0)});s.on('error',()=>process.exit(1));setTimeout(()=>process.exit(1),5000)"]

# Build arguments are declared only from here on, after every RUN, so an image built with the
# Supervisor's arguments and one built without any share all their layers (the build cache).
ARG BUILD_VERSION=0.4.0
# The architecture: TARGETARCH (amd64, arm64), which BuildKit and podman set; where
# the Supervisor passes BUILD_ARCH it names the same architecture in Home Assistant's words
# (amd64, aarch64), which is what io.hass.arch holds, so it wins. A Dockerfile cannot rename
# arm64 to aarch64 in every builder (podman 4 cannot pick a stage by a variable), so a plain
# `docker buildx build --platform linux/arm64 .` labels it arm64.
ARG TARGETARCH
ARG BUILD_ARCH
LABEL \
    io.hass.type="app" \
    io.hass.arch="${BUILD_ARCH:-${TARGETARCH}}" \
    io.hass.version="${BUILD_VERSION}" \
    io.hass.name="APsystems ECU Proxy" \
    io.hass.url="https://github.com/apsystems-ecu-proxy/apsystems-ecu-proxy" \
    org.opencontainers.image.title="APsystems ECU Proxy" \
    org.opencontainers.image.description="Cloudless stand-in for the APsystems EMA cloud, publishing to Home Assistant over MQTT" \
    org.opencontainers.image.source="https://github.com/apsystems-ecu-proxy/apsystems-ecu-proxy" \
    org.opencontainers.image.url="https://github.com/apsystems-ecu-proxy/apsystems-ecu-proxy" \
    org.opencontainers.image.licenses="MIT" \
    org.opencontainers.image.version="${BUILD_VERSION}"
