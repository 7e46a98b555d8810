#!/usr/bin/env bash
# Install the Debian (bookworm) packages the Go and Java client checks build with
# (examples/go/build.sh, examples/java/build.sh). Idempotent: installs only what is missing,
# and runs `apt-get update` first only when something is. Needs root (or sudo).
#
#   tools/install_client_toolchains.sh [go] [java]     # default: both
set -euo pipefail

go_packages=(golang-go golang-google-grpc-dev golang-google-protobuf-dev
             # Without it apt resolves github.com/golang/protobuf to 1.3, and the binary panics
             # with "protobuf tag not enough fields".
             golang-github-golang-protobuf-1-5-dev
             golang-google-genproto-dev protoc-gen-go protoc-gen-go-grpc protobuf-compiler)
java_packages=(openjdk-17-jdk-headless libgrpc-java protobuf-compiler-grpc-java-plugin
               libprotobuf-java libguava-java libnetty-java libperfmark-java libgoogle-gson-java
               libjsr305-java libgeronimo-annotation-1.3-spec-java libanimal-sniffer-java
               liberror-prone-java protobuf-compiler)

wanted=()
for toolchain in "${@:-go java}"; do
  for name in $toolchain; do
    case "$name" in
      go) wanted+=("${go_packages[@]}") ;;
      java) wanted+=("${java_packages[@]}") ;;
      *) echo "usage: $0 [go] [java]" >&2; exit 2 ;;
    esac
  done
done

missing=()
for package in "${wanted[@]}"; do
  status="$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)"
  [ "$status" = installed ] || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "client toolchains: all ${#wanted[@]} packages already installed"
  exit 0
fi

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
echo "client toolchains: installing ${missing[*]}"
"${sudo[@]}" apt-get update -q
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends \
  "${missing[@]}"
