#!/bin/sh
# What the app's s6 service runs. Thin on purpose: the program reads /data/options.json,
# asks the Supervisor for the MQTT broker and logs readable lines itself; `exec` lets SIGTERM
# reach Node. ECU_PROXY_PORTS is set only by the container smoke test (host network, so it must
# avoid ports in use); the app always listens on 8995-8997 inside its container.
set -e
# A small young generation (4 MB: ~10 MB less resident memory with hundreds of inverters than
# Node's default; 2 MB saves 3 MB more but cost more CPU in A/B runs), and glibc giving freed
# memory back to the system (another ~6 MB); `npm run bench` runs the proxy with these
# (CONTRIBUTING.md, Performance).
NODE_FLAGS="--max-semi-space-size=4"
export MALLOC_TRIM_THRESHOLD_=131072
if [ -n "${ECU_PROXY_PORTS:-}" ]; then
  exec node $NODE_FLAGS /app/dist/ecu-proxy.js serve --options /data/options.json --data-dir /data \
    --ports "$ECU_PROXY_PORTS"
fi
exec node $NODE_FLAGS /app/dist/ecu-proxy.js serve --options /data/options.json --data-dir /data
