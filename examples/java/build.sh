#!/usr/bin/env bash
# Build examples/java into OUT (default ./build) from protos/ alone, with Debian bookworm's
# packages, javac and no network (no Maven): Java code is generated into a temporary directory,
# never committed. Debian has no jar of the googleapis common protos (com.google.rpc.ErrorInfo,
# which grpc-protobuf's StatusProto needs), so they are generated too, from the .proto files the
# googleapis-common-protos wheel ships (found through $PYTHON, default python3).
#
#   apt-get install -y openjdk-17-jdk-headless libgrpc-java protobuf-compiler-grpc-java-plugin \
#     libprotobuf-java libguava-java libnetty-java libperfmark-java libgoogle-gson-java \
#     libjsr305-java libgeronimo-annotation-1.3-spec-java libanimal-sniffer-java \
#     liberror-prone-java protobuf-compiler
#   examples/java/build.sh /tmp/java-lifecycle && /tmp/java-lifecycle/lifecycle --addr HOST:PORT
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
protos="$here/../../protos"
out="$(realpath -m "${1:-$here/build}")"
python="${PYTHON:-python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

rpc_protos="$("$python" -c 'import pathlib, google.rpc.status_pb2 as m
print(pathlib.Path(m.__file__).parents[2])')"
[ -f "$rpc_protos/google/rpc/error_details.proto" ] || {
  echo "no google/rpc/error_details.proto under $rpc_protos" >&2; exit 1; }

jars=/usr/share/java
# Run time: grpc-java 1.41 and what its Maven poms name, as Debian packages them.
runtime=(grpc-api grpc-context grpc-core grpc-netty grpc-protobuf grpc-protobuf-lite grpc-stub
         protobuf guava perfmark-api gson netty-buffer netty-codec netty-codec-http
         netty-codec-http2 netty-codec-socks netty-common netty-handler netty-handler-proxy
         netty-resolver netty-transport)
# Compile time only: the @Generated of grpc's stubs and the annotations grpc's classes carry.
compile_only=(geronimo-annotation-1.3-spec jsr305 error-prone-annotations animal-sniffer-annotations)
classpath() { local IFS=:; local list=(); for j in "$@"; do list+=("$jars/$j.jar"); done
              echo "${list[*]}"; }
run_cp="$(classpath "${runtime[@]}")"
compile_cp="$run_cp:$(classpath "${compile_only[@]}")"

mkdir -p "$work/src"
protoc -I "$protos" -I "$rpc_protos" -I /usr/include \
  --java_out="$work/src" \
  --plugin=protoc-gen-grpc-java=/usr/bin/grpc_java_plugin --grpc-java_out="$work/src" \
  cloudfront/v1/origin_access_identity_service.proto \
  cloudfront/v1/origin_access_control_service.proto
protoc -I "$rpc_protos" -I /usr/include --java_out="$work/src" \
  google/rpc/status.proto google/rpc/error_details.proto

rm -rf "$out" && mkdir -p "$out/classes"
find "$work/src" -name '*.java' > "$work/sources"
echo "$here/Lifecycle.java" >> "$work/sources"
javac -nowarn -encoding UTF-8 --release 17 -cp "$compile_cp" -d "$out/classes" "@$work/sources"
cat > "$out/lifecycle" <<EOF
#!/bin/sh
exec java -cp "$out/classes:$run_cp" Lifecycle "\$@"
EOF
chmod +x "$out/lifecycle"
echo "built $out/lifecycle"
