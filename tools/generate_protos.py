"""Regenerate the Python code for protos/ into service/_gen/ (the only way it is written).

    python tools/generate_protos.py          # rewrite service/_gen
    python tools/generate_protos.py --check  # exit 1 if service/_gen is stale

The proto root is mapped to the virtual path ``service/_gen`` so that the generated
``*_pb2_grpc.py`` imports its ``*_pb2`` module as ``service._gen.cloudfront.v1…`` — protoc
has no option for package-relative imports, and hand-editing its output is not allowed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
OUT = ROOT / "service" / "_gen"
VIRTUAL = "service/_gen"


def generate(into: Path) -> None:
    files = sorted(p.relative_to(PROTOS).as_posix() for p in PROTOS.rglob("*.proto"))
    include = Path(protoc.__file__).parent / "_proto"
    args = [
        "protoc",
        f"-I{VIRTUAL}={PROTOS}",
        f"-I{include}",
        f"--python_out={into}",
        f"--pyi_out={into}",
        f"--grpc_python_out={into}",
        *(f"{VIRTUAL}/{f}" for f in files),
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    generated = into / VIRTUAL
    for directory in [generated, *(p for p in generated.rglob("*") if p.is_dir())]:
        (directory / "__init__.py").touch()


def tree(path: Path) -> dict[str, bytes]:
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in path.rglob("*") if p.is_file()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if service/_gen is stale")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        generate(Path(tmp))
        fresh = Path(tmp) / VIRTUAL
        if args.check:
            stale = tree(fresh) != {k: v for k, v in tree(OUT).items() if "__pycache__" not in k}
            if stale:
                print("service/_gen is stale: run python tools/generate_protos.py", file=sys.stderr)
                return 1
            print("service/_gen is current")
            return 0
        if OUT.exists():
            shutil.rmtree(OUT)
        shutil.copytree(fresh, OUT)
    print(f"generated {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
