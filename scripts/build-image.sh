#!/usr/bin/env bash
# Builds the twofold container image from packaging/Dockerfile with Docker or Podman,
# whichever can build here; says plainly when neither can (no engine running, or no
# registry reachable to pull the rust and debian base images).
# Usage: bash scripts/build-image.sh [tag, default twofold:latest]
set -euo pipefail
cd "$(dirname "$0")/.."
TAG="${1:-twofold:latest}"
for tool in docker podman; do
  command -v "$tool" >/dev/null || continue
  if ! "$tool" info >/dev/null 2>&1; then
    echo "$tool is installed but cannot build here: no container engine answers ($tool info failed)" >&2
    continue
  fi
  echo "building $TAG with $tool"
  if "$tool" build -f packaging/Dockerfile -t "$TAG" .; then
    echo "built $TAG; run: $tool run -p 8080:8080 -v twofold-data:/data $TAG"
    exit 0
  fi
  echo "$tool could not build the image (are the rust:1-bookworm and debian:bookworm-slim base images reachable?)" >&2
  exit 1
done
echo "cannot build the image here: neither Docker nor Podman has a working engine on this machine" >&2
exit 1
