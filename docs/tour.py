"""The README's CLI tour, produced by running it: `python docs/tour.py` rewrites every marked
output block from what the commands print now; `python docs/tour.py --check` exits 1 (and
shows the difference) when the README no longer matches, modulo run ids, times and dates.

A block is marked with an HTML comment on the line before its fence:

    <!-- tour -->            every command's whole output
    <!-- tour head=12 -->    each command's first 12 lines, then "..." when there are more

Inside the block, lines starting with `$ ` are commands, the lines after each are its output;
a line "..." in the README stands for any lines the block leaves out. Commands run with bash,
one after another through the whole README, in a scratch folder holding links to this
repository's `scenarios/`, `personas/`, `examples/` and `docs/` (figures a command writes
under `docs/figures/` land in the repository, except under `--check`; everything else is fresh every time, so the tour's databases and files are
fresh every time), with COLUMNS=100. A run id in a command (`trendsim-pa30-20261128-...`)
stands for the latest run of that scenario the tour made (several ids of one scenario in one
command: the latest ones, in order); `$?` is the previous command's exit code.

Regenerating after a merge that changed outputs is one command: `python docs/tour.py`.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MARK = re.compile(r"^<!-- tour(?:\s+head=(\d+))?\s*-->$")
RUN_ID = re.compile(r"\b([a-z0-9][a-z0-9_.-]*?)-(\d{8}-\d{6}-[0-9a-f]{4})\b")
LINKED = ("scenarios", "personas", "examples", "docs")
WIDTH = "100"


@dataclass
class Block:
    start: int  # index of the fence line after the marker
    end: int  # index of the closing fence
    head: int | None
    commands: list[tuple[str, list[str]]] = field(default_factory=list)  # command, README output lines


def parse(lines: list[str]) -> list[Block]:
    blocks = []
    i = 0
    while i < len(lines):
        m = MARK.match(lines[i].strip())
        if m and i + 1 < len(lines) and lines[i + 1].startswith("```"):
            start = i + 1
            end = next(j for j in range(start + 1, len(lines)) if lines[j].startswith("```"))
            block = Block(start, end, int(m[1]) if m[1] else None)
            for line in lines[start + 1:end]:
                if line.startswith("$ "):
                    block.commands.append((line[2:], []))
                elif block.commands:
                    block.commands[-1][1].append(line)
            blocks.append(block)
            i = end
        i += 1
    return blocks


# -- normalising what may differ between two honest runs ---------------------------------------
SUBS = [
    (RUN_ID, r"\1-RUN"),
    (re.compile(r"\b([a-z0-9][a-z0-9_.-]*?)-\d{1,8}(-\d{0,6}(-[0-9a-f]{0,4})?)?…"), r"\1-RUN"),  # an id a table cut
    (re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?"), "DATETIME"),
    (re.compile(r"\b\d{2}-\d{2} \d{2}:\d{2}\b"), "DATETIME"),
    (re.compile(r"\b\d+(\.\d+)? ?(s|ms)\b"), "T"),
    (re.compile(r"\b\d{1,3}(,\d{3})* KiB\b"), "N KiB"),
    (re.compile(r"\d+(\.\d+)? calls/s"), "R calls/s"),
    (re.compile(r"/tmp/[^\s)]*"), "TMP"),
]
BOX = re.compile(r"[─━═┄]+")


def normalise(line: str) -> str:
    for pattern, repl in SUBS:
        line = pattern.sub(repl, line)
    line = BOX.sub("─", line)
    return re.sub(r"\s+", " ", line).strip()


def matches(shown: list[str], actual: list[str]) -> bool:
    """README lines (with "..." standing for any lines) against the real output."""
    want = [normalise(s) for s in shown]
    got = [normalise(a) for a in actual]

    def match(i: int, j: int) -> bool:
        if i == len(want):
            return j == len(got)
        if want[i] == "...":
            return any(match(i + 1, k) for k in range(j, len(got) + 1))
        return j < len(got) and want[i] == got[j] and match(i + 1, j + 1)

    return match(0, 0)


# -- running the tour -------------------------------------------------------------------------------
class Session:
    def __init__(self, folder: Path, check: bool = False):
        self.folder = folder
        self.rc = 0
        self.runs: dict[str, list[str]] = {}  # scenario prefix -> run ids in the order they appeared
        for name in LINKED:
            if check and name == "docs":  # a check leaves the repository's figures as they are
                shutil.copytree(ROOT / name, folder / name)
            else:
                (folder / name).symlink_to(ROOT / name)
        self.env = dict(os.environ, COLUMNS=WIDTH, LINES="40", PYTHONPATH=os.pathsep.join(
            filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])), NO_COLOR="1", TERM="dumb")

    def resolve(self, command: str) -> str:
        """Run ids of the README's last generation replaced by the runs this tour made (the
        command as the README shows it next)."""
        wanted: dict[str, list[str]] = {}
        for m in RUN_ID.finditer(command):
            wanted.setdefault(m[1], [])
            if m[0] not in wanted[m[1]]:
                wanted[m[1]].append(m[0])
        for prefix, old in wanted.items():
            have = self.runs.get(prefix, [])
            if len(have) < len(old):
                raise SystemExit(f"tour: {command!r} names {len(old)} {prefix} run(s) but the tour made {len(have)} so far")
            for o, n in zip(old, have[-len(old):]):
                command = command.replace(o, n)
        return command

    def run(self, command: str) -> list[str]:
        proc = subprocess.run(["bash", "-c", command.replace("$?", str(self.rc))], cwd=self.folder, env=self.env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1800)
        self.rc = proc.returncode
        out = proc.stdout.rstrip("\n").splitlines()
        for line in out:
            for m in RUN_ID.finditer(line):
                seen = self.runs.setdefault(m[1], [])
                if m[0] not in seen:
                    seen.append(m[0])
        return [line.rstrip() for line in out]


def shorten(out: list[str], head: int | None) -> list[str]:
    if head is None or len(out) <= head:
        return out
    return out[:head] + ["..."]


def tour(readme: Path = README, check: bool = False, say=print) -> int:
    lines = readme.read_text(encoding="utf-8").splitlines()
    blocks = parse(lines)
    failures = 0
    with tempfile.TemporaryDirectory(prefix="simkit-tour-") as tmp:
        session = Session(Path(tmp), check)
        new_lines = list(lines)
        rendered: dict[int, list[str]] = {}
        for block in blocks:
            body: list[str] = []
            for command, shown in block.commands:
                command = session.resolve(command)
                actual = session.run(command)
                body.append(f"$ {command}")
                body += shorten(actual, block.head)
                if check and not matches(shown, actual):
                    failures += 1
                    diff = difflib.unified_diff([normalise(s) for s in shown], [normalise(a) for a in shorten(actual, block.head)],
                                                "README", "now", lineterm="", n=1)
                    say(f"README.md line {block.start + 1}: the output of `{command}` changed:\n" + "\n".join(diff))
            rendered[block.start] = body
        if check:
            return failures
        for block in reversed(blocks):  # from the end, so the indexes of earlier blocks stay valid
            new_lines[block.start + 1:block.end] = rendered[block.start]
        readme.write_text("\n".join(new_lines) + "\n", encoding="utf-8")
        say(f"{readme}: {len(blocks)} tour blocks, {sum(len(b.commands) for b in blocks)} commands regenerated")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare instead of rewriting; exit 1 on a difference")
    parser.add_argument("--readme", type=Path, default=README)
    args = parser.parse_args()
    failures = tour(args.readme, check=args.check)
    if failures:
        print(f"{failures} command output(s) no longer match: run python docs/tour.py to regenerate", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
