"""Compare two synthesized apps as JSON, stack by stack: what a refactor changed.

    python -m tools.synth_diff BEFORE_DIR AFTER_DIR [--same-lookups]

Each directory is a ``cdktf.out``. Every ``stacks/<name>/cdk.tf.json`` is parsed and compared
as data (key order does not matter, list order does); each difference is printed with its JSON
path. Exit 0 when nothing differs.

``--same-lookups`` first makes the account and partition look-ups comparable: wherever a stack
reads them (one ``aws_caller_identity`` / ``aws_partition`` data source per construct, or one
per stack) and wherever an ARN spells the partition out (``arn:aws:``), both sides say
``${ACCOUNT}`` and ``${PARTITION}`` instead, and those data sources are left out. The rest must
then match exactly.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

_ACCOUNT = re.compile(r"\$\{data\.aws_caller_identity\.[A-Za-z0-9_-]+\.account_id\}")
_PARTITION = re.compile(r"\$\{data\.aws_partition\.[A-Za-z0-9_-]+\.partition\}")
_LITERAL_PARTITION = re.compile(r"\barn:aws:")
_LOOKUPS = ("aws_caller_identity", "aws_partition")


def same_lookups(value: Any) -> Any:
    """``value`` with the account and partition look-ups and ``arn:aws:`` literals made uniform."""
    if isinstance(value, str):
        value = _ACCOUNT.sub("${ACCOUNT}", value)
        value = _PARTITION.sub("${PARTITION}", value)
        return _LITERAL_PARTITION.sub("arn:${PARTITION}:", value)
    if isinstance(value, list):
        return [same_lookups(v) for v in value]
    if isinstance(value, dict):
        return {
            k: same_lookups(v) for k, v in value.items() if not (k in _LOOKUPS and isinstance(v, dict))
        }  # the look-up data sources themselves
    return value


def differences(before: Any, after: Any, path: str = "") -> list[str]:
    """Every place two JSON values differ, as ``path: before -> after`` lines."""
    if isinstance(before, dict) and isinstance(after, dict):
        lines = []
        for key in sorted(set(before) | set(after)):
            where = f"{path}/{key}"
            if key not in after:
                lines.append(f"{where}: only before")
            elif key not in before:
                lines.append(f"{where}: only after")
            else:
                lines.extend(differences(before[key], after[key], where))
        return lines
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [
            line
            for index, (b, a) in enumerate(zip(before, after, strict=True))
            for line in differences(b, a, f"{path}[{index}]")
        ]
    if before != after:
        return [f"{path}: {json.dumps(before)[:300]} -> {json.dumps(after)[:300]}"]
    return []


def stacks(out_dir: Path) -> dict[str, Any]:
    return {
        d.name: json.loads((d / "cdk.tf.json").read_text())
        for d in sorted((out_dir / "stacks").iterdir())
        if (d / "cdk.tf.json").is_file()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="compare two synthesized cdktf.out directories as JSON")
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument(
        "--same-lookups", action="store_true", help="treat account/partition look-ups and arn:aws: literals as the same"
    )
    args = parser.parse_args(argv)
    before, after = stacks(args.before), stacks(args.after)
    found = 0
    for name in sorted(set(before) | set(after)):
        if name not in after or name not in before:
            print(f"{name}: only {'before' if name in before else 'after'}")
            found += 1
            continue
        b, a = before[name], after[name]
        if args.same_lookups:
            b, a = same_lookups(b), same_lookups(a)
        lines = differences(b, a)
        found += len(lines)
        print(f"{name}: {'identical' if not lines else f'{len(lines)} difference(s)'}")
        for line in lines:
            print(f"  {line}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
