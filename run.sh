#!/bin/sh
# What the app's s6 service runs. Thin on purpose: the program reads /data/options.json,
# asks the Supervisor for the MQTT broker and logs readable lines itself; `exec` lets SIGTERM
# reach Node. ECU_PROXY_PORTS is set only by the container smoke test (host network, so it must
# avoid ports in use); the app always listens on 8995-8997 inside its container.
set -e
# Node's flags and environment (memory settings), shared with `npm run bench`: see that file.
# ECU_PROXY_RUNTIME_ENV is set only by test/addon/runScript.test.ts (the repository's copy).
set -a
# shellcheck source=rootfs/etc/ecu-proxy/runtime.env
. "${ECU_PROXY_RUNTIME_ENV:-/etc/ecu-proxy/runtime.env}"
set +a
set -- /app/dist/ecu-proxy.js serve --options /data/options.json --data-dir /data
if [ -n "${ECU_PROXY_PORTS:-}" ]; then
  set -- "$@" --ports "$ECU_PROXY_PORTS"
fi
# shellcheck disable=SC2086 # NODE_FLAGS is a list of flags: split on spaces on purpose.
exec node $NODE_FLAGS "$@"
