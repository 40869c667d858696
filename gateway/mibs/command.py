"""``lvgw mib compile`` and ``lvgw mib draft-profile``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gateway.mibs.compiler import MibError, compile_files, search_dirs
from gateway.mibs.draft import draft_profile
from gateway.mibs.store import MibLibrary, UnknownName

EXIT_OK, EXIT_USAGE = 0, 2


def cmd_compile(args: argparse.Namespace) -> int:
    try:
        written = compile_files(args.files, args.mib_dir, args.out)
    except MibError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"{args.out}: cannot write: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    for path in written:
        print(f"wrote {path}")
    return EXIT_OK


def cmd_draft_profile(args: argparse.Namespace) -> int:
    library = MibLibrary.over(args.mib_dir)
    try:
        if library.module(args.module) is None:
            print(
                f"no compiled MIB module {args.module} (looked in {library.looked_in()};"
                " compile it with lvgw mib compile)",
                file=sys.stderr,
            )
            return EXIT_USAGE
        text = draft_profile(library, args.module, args.kind)
    except UnknownName as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    if args.out is None:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        args.out.write_text(text)
    except OSError as exc:
        print(f"{args.out}: cannot write: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    print(f"wrote {args.out}")
    return EXIT_OK


def _mib_dir_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--mib-dir",
        type=Path,
        action="append",
        default=[],
        metavar="DIR",
        help=f"{what} (repeatable)",
    )


def add_commands(sub: Any, kinds: Sequence[str]) -> None:
    """The ``mib`` command and its subcommands, on the top parser's subparsers;
    ``kinds``: the device kinds a profile may be for."""
    mib = sub.add_parser("mib", help="compile MIB modules; draft a profile from one")
    mib_sub = mib.add_subparsers(dest="mib_command", required=True, metavar="SUBCOMMAND")
    looked = ", ".join(str(d) for d in search_dirs([]))
    compile_ = mib_sub.add_parser(
        "compile",
        help="compile MIB files to the JSON that profiles' MODULE::name OIDs are read from",
        description=f"Imports are looked for in each --mib-dir, then in {looked}; never"
        " on the network.",
    )
    compile_.add_argument("files", type=Path, nargs="+", metavar="FILE", help="a MIB file")
    _mib_dir_option(compile_, "a directory of MIB files to find imported modules in")
    compile_.add_argument(
        "-o",
        "--out",
        type=Path,
        default=Path("mibs"),
        metavar="OUTDIR",
        help="where to write <MODULE>.json (default: mibs, which a site file beside it"
        " reads without naming it)",
    )
    compile_.set_defaults(func=cmd_compile)
    draft = mib_sub.add_parser(
        "draft-profile",
        help="draft a profile from a compiled MIB module, to trim (docs/profiles.md)",
    )
    draft.add_argument("module", metavar="MODULE", help="a compiled MIB module, e.g. UPS-MIB")
    draft.add_argument(
        "--kind",
        required=True,
        choices=kinds,
        help="the device kind the profile is for",
    )
    _mib_dir_option(draft, "a directory of compiled modules, before the shipped ones")
    draft.add_argument(
        "-o", "--out", type=Path, metavar="FILE", help="write it there (default: stdout)"
    )
    draft.set_defaults(func=cmd_draft_profile)
