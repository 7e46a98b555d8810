#!/usr/bin/env bash
# Build examples/go into the binary OUT (default ./build/lifecycle) from protos/ alone, with Debian bookworm's
# packages and no network: Go code is generated into a temporary GOPATH, never committed, and
# the go_package is given on the command line (M options) so the .proto files stay untouched.
#
#   apt-get install -y golang-go golang-google-grpc-dev golang-google-protobuf-dev \
#     golang-github-golang-protobuf-1-5-dev golang-google-genproto-dev \
#     protoc-gen-go protoc-gen-go-grpc protobuf-compiler
#   examples/go/build.sh /tmp/lifecycle
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
protos="$here/../../protos"
out="$(realpath -m "${1:-$here/build/lifecycle}")"
mkdir -p "$(dirname "$out")"
gopath="$(mktemp -d)"
trap 'rm -rf "$gopath"' EXIT

pkg=cloudfrontfacade.example/gen/cloudfront/v1
mapping=()
for proto in "$protos"/cloudfront/v1/*.proto; do
  mapping+=("M${proto#"$protos"/}=$pkg;cloudfrontv1")
done
go_opts=(); grpc_opts=()
for m in "${mapping[@]}"; do go_opts+=("--go_opt=$m"); grpc_opts+=("--go-grpc_opt=$m"); done

mkdir -p "$gopath/src"
(cd "$protos" && protoc -I . --go_out="$gopath/src" "${go_opts[@]}" \
  --go-grpc_out="$gopath/src" "${grpc_opts[@]}" cloudfront/v1/*.proto)

mkdir -p "$gopath/src/cloudfrontfacade.example/lifecycle"
cp "$here/main.go" "$gopath/src/cloudfrontfacade.example/lifecycle/"
# GOPATH mode: the Debian packages live in /usr/share/gocode; nothing is downloaded.
cd "$gopath/src/cloudfrontfacade.example/lifecycle"
# The build cache is kept between runs (Go's default place) unless there is no home for it.
GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" GOFLAGS= GOPROXY=off \
  GOCACHE="${GOCACHE:-${XDG_CACHE_HOME:-${HOME:-$gopath}/.cache}/go-build}" go build -o "$out" .
echo "built $out"
