#!/bin/bash
# The container's health check: GET /healthz over plain HTTP with bash's /dev/tcp, because the
# slim runtime image has no curl or wget. Port from DRIFTD_HEALTH_PORT (default 9464, the port
# the image EXPOSEs). Exit 0 on `200`, 1 otherwise. Not for an `http.tls` listener (see
# docs/deploy.md). tests/deploy_artifacts.rs runs it against a real daemon.
set -euo pipefail
port="${DRIFTD_HEALTH_PORT:-9464}"
exec 3<>"/dev/tcp/127.0.0.1/${port}"
printf 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
IFS= read -r -t 5 status <&3
[[ "${status}" == "HTTP/1.1 200"* ]]
