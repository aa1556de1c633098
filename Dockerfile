# APsystems ECU Proxy — Home Assistant add-on image.
# The Supervisor passes BUILD_FROM from build.yaml (and BUILD_ARCH, BUILD_VERSION); the defaults
# below give the same image for a plain `docker build .` on amd64. Debian flavour of the HA base
# images, so Node.js is Debian's `nodejs` package (trixie: Node 20) — and so the container smoke
# test can build this very file against a stand-in base made from Debian packages
# (scripts/standin-base.sh).
ARG BUILD_ARCH=amd64
ARG BUILD_FROM=ghcr.io/home-assistant/${BUILD_ARCH}-base-debian:trixie

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

# --- final stage: Node, the bundle (it holds every dependency), the page, package.json ------
FROM ${BUILD_FROM}
ARG BUILD_ARCH
ARG BUILD_VERSION=0.2.0
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

LABEL \
    io.hass.type="addon" \
    io.hass.arch="${BUILD_ARCH}" \
    io.hass.version="${BUILD_VERSION}" \
    org.opencontainers.image.title="APsystems ECU Proxy" \
    org.opencontainers.image.description="Cloudless stand-in for the APsystems EMA cloud, publishing to Home Assistant over MQTT" \
    org.opencontainers.image.source="https://github.com/apsystems-ecu-proxy/apsystems-ecu-proxy" \
    org.opencontainers.image.url="https://github.com/apsystems-ecu-proxy/apsystems-ecu-proxy" \
    org.opencontainers.image.licenses="MIT" \
    org.opencontainers.image.version="${BUILD_VERSION}"
