"""The ``lvgw-center`` command line. Exit codes: 0 ok, 1 runtime failure, 2 bad usage
or config."""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import signal
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from center.config import LoadedCenter, load_center
from gateway import logs
from gateway.config import errors
from gateway.config.errors import ConfigError, check_config, print_problems
from gateway.sqlite import SchemaError

if TYPE_CHECKING:
    from center.ledger import Ledger

T = TypeVar("T")
EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
log = logging.getLogger("lvgw-center")


def load_or_report(path: Path) -> LoadedCenter | None:
    return errors.load_or_report(load_center, path)


def cmd_check_config(args: argparse.Namespace) -> int:
    return EXIT_OK if check_config(load_center, args.config) else EXIT_USAGE


def cmd_run(args: argparse.Namespace) -> int:
    loaded = load_or_report(args.config)
    if loaded is None:
        return EXIT_USAGE
    logs.setup()
    for warning in loaded.warnings:
        log.warning("%s", warning)
    from center.ledger import LedgerBusyError
    from center.ledger.postgres import LedgerSchemaError
    from center.service import ListenError

    try:
        asyncio.run(_run(loaded))
    except LedgerBusyError as exc:
        print(f"lvgw-center: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (SchemaError, LedgerSchemaError, ListenError) as exc:
        print(f"lvgw-center: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except (OSError, sqlite3.Error) as exc:
        print(f"lvgw-center: ledger {loaded.center.ledger.where}: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


async def _run(loaded: LoadedCenter) -> None:
    from center.service import Center

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await Center(loaded.center).run(stop)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    log.info("lvgw-center stopped")


def _read_ledger(loaded: LoadedCenter, read: Callable[[Ledger], T]) -> T | int:
    """``read(ledger)`` on the ledger opened read-only, or the exit code after saying
    why it cannot be opened (a missing SQLite ledger is an error, not a new file)."""
    import psycopg

    from center.ledger import Ledger
    from center.ledger.postgres import LedgerSchemaError

    where = loaded.center.ledger.where
    try:
        ledger = Ledger.connect(loaded.center.ledger, read_only=True)
        try:
            return read(ledger)
        finally:
            ledger.close()
    except (SchemaError, LedgerSchemaError) as exc:
        print(f"lvgw-center: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except (sqlite3.Error, psycopg.Error, OSError) as exc:
        print(f"lvgw-center: ledger {where}: {exc}", file=sys.stderr)
        return EXIT_FAILURE


Rows = list[dict[str, Any]]  # a listing's rows, as center.tickets and center.sites give them


def _list_from_ledger(
    args: argparse.Namespace, read: Callable[[Ledger], Rows],
    as_json: Callable[[Rows], str], as_table: Callable[[Rows], str],
) -> int:  # fmt: skip
    """A listing command: rows read from the ledger, printed as JSON or as a table."""
    loaded = load_or_report(args.config)
    if loaded is None:
        return EXIT_USAGE
    found = _read_ledger(loaded, read)
    if isinstance(found, int):
        return found
    print(as_json(found) if args.json else as_table(found))
    return EXIT_OK


def cmd_tickets(args: argparse.Namespace) -> int:
    from center import tickets

    def read(ledger: Ledger) -> Rows:
        return tickets.rows(ledger, args.open, args.site)

    return _list_from_ledger(args, read, tickets.as_json, tickets.as_table)


def cmd_sites(args: argparse.Namespace) -> int:
    from center import sites

    return _list_from_ledger(args, sites.rows, sites.as_json, sites.as_table)


def cmd_action(args: argparse.Namespace) -> int:
    """``ack``, ``arrive``, ``depart``: to the ticket's site, the gateway's reply awaited."""
    import aiomqtt

    from center import commands

    loaded = load_or_report(args.config)
    if loaded is None:
        return EXIT_USAGE
    try:
        message = commands.build_message(args.ticket, args.command, args.by, args.note, args.at)
    except commands.Refused as exc:
        print(f"lvgw-center: {exc}", file=sys.stderr)
        return EXIT_USAGE
    found = _read_ledger(loaded, lambda ledger: ledger.locate_ticket(args.ticket))
    if isinstance(found, int):
        return found
    try:
        site_id = commands.check_ticket(args.ticket, found)
    except commands.Refused as exc:
        print(f"lvgw-center: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    center = loaded.center
    try:
        sent = asyncio.run(commands.send(center, site_id, message, args.wait))
    except aiomqtt.MqttError as exc:
        where = f"{center.broker.host}:{center.broker.port}"
        print(f"lvgw-center: broker {where}: {exc}: nothing was sent", file=sys.stderr)
        return EXIT_FAILURE
    taken, line = commands.describe(args.command, args.ticket, sent)
    print(line, file=sys.stdout if taken else sys.stderr)
    return EXIT_OK if taken else EXIT_FAILURE


def cmd_report(args: argparse.Namespace) -> int:
    """The site's pre-visit report, from its gateway over cmd/report (center/remote.py)."""
    import aiomqtt

    from center import remote, sites

    loaded = load_or_report(args.config)
    if loaded is None:
        return EXIT_USAGE
    found = _read_ledger(loaded, sites.rows)
    if isinstance(found, int):
        return found
    known = remote.seen(found, args.site)
    center = loaded.center
    fetching = remote.fetch_report(center, args.site, args.format, args.device, known, args.wait)
    try:
        text = asyncio.run(fetching)
    except remote.NoReport as exc:
        print(f"lvgw-center: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except aiomqtt.MqttError as exc:
        where = f"{center.broker.host}:{center.broker.port}"
        print(f"lvgw-center: broker {where}: {exc}: nothing was sent", file=sys.stderr)
        return EXIT_FAILURE
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"report written to {args.out}", file=sys.stderr)
    return EXIT_OK


def cmd_user_add(args: argparse.Namespace) -> int:
    """Add or change a user of the web app; the password from the terminal (asked
    twice) or the first line of standard input."""
    import getpass

    from center.web.users import USER_NAME, add_user

    if not re.match(USER_NAME, args.name):
        print(f"lvgw-center: user name {args.name!r}: letters, digits, . _ @ -", file=sys.stderr)
        return EXIT_USAGE
    if (args.role == "customer") != bool(args.customer):
        print("lvgw-center: --customer is for a customer account, and it needs one",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            print("lvgw-center: the two passwords differ", file=sys.stderr)
            return EXIT_USAGE
    else:
        password = sys.stdin.readline().rstrip("\n")
    if len(password) < 8:
        print("lvgw-center: a password of at least 8 characters", file=sys.stderr)
        return EXIT_USAGE
    try:
        new = add_user(args.file, args.name, args.role, args.customer or [], password)
    except ConfigError as exc:
        print_problems(exc)
        return EXIT_USAGE
    except OSError as exc:
        print(f"lvgw-center: {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_FAILURE
    print(f"{args.file}: {'added' if new else 'changed'} {args.name} ({args.role})")
    return EXIT_OK


Command = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lvgw-center",
        description="The service center's side of lvgw: ticket events from many sites"
        " into a ledger and on to the center's own tools (docs/center.md).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, help_text: str, handler: Command) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=help_text)
        command.add_argument(
            "-c", "--config", type=Path, required=True, help="the CENTER.yaml file"
        )
        command.set_defaults(handler=handler)
        return command

    add("check-config", "validate CENTER.yaml and the files it names", cmd_check_config)
    add("run", "take ticket events from the broker into the ledger and the adapters", cmd_run)
    listing = add("tickets", "list the tickets in the ledger", cmd_tickets)
    listing.add_argument("--open", action="store_true", help="only tickets not resolved")
    listing.add_argument("--site", metavar="ID", help="only this site's tickets")
    listing.add_argument("--json", action="store_true", help="JSON instead of a table")
    for verb, help_text in [
        ("ack", "acknowledge a ticket: the gateway records who and stops its reminders"),
        ("arrive", "a technician arrived on site for a ticket (the on-site clock stops)"),
        ("depart", "the technician left the site"),
    ]:
        action = add(verb, help_text, cmd_action)
        action.add_argument("ticket", metavar="TICKET", help="the ticket id")
        action.add_argument("--by", required=True, metavar="NAME", help="who (1-200 chars)")
        action.add_argument("--note", metavar="TEXT", help="free text (up to 2,000 chars)")
        if verb != "ack":
            action.add_argument(
                "--at", metavar="TIME", help="when, RFC 3339 with its offset (default: now)"
            )
        action.add_argument(
            "--wait", type=float, default=10.0, metavar="SECONDS",
            help="how long to wait for the gateway's reply (default 10; 0: do not wait)",
        )  # fmt: skip
        action.set_defaults(at=None)
    report = add("report", "a site's pre-visit report, made by its gateway", cmd_report)
    report.add_argument("site", metavar="SITE", help="the site id")
    report.add_argument("--format", choices=["md", "html", "json"], default="md")
    report.add_argument("--device", metavar="ID", help="only this device")
    report.add_argument("--out", type=Path, help="write to this file instead of standard output")
    report.add_argument(
        "--wait", type=float, default=30.0, metavar="SECONDS",
        help="how long to wait for the gateway (default 30)",
    )  # fmt: skip
    site_list = add("sites", "list the sites' last status from the ledger", cmd_sites)
    site_list.add_argument("--json", action="store_true", help="JSON instead of a table")
    users = sub.add_parser("user", help="the people who sign in to the web app")
    user_sub = users.add_subparsers(dest="user_command", required=True)
    user_add = user_sub.add_parser("add", help="add a user, or set a role and password anew")
    user_add.add_argument("name", metavar="NAME")
    user_add.add_argument("--role", required=True, choices=["dispatcher", "technician", "customer"])
    user_add.add_argument(
        "--customer", action="append", metavar="NAME",
        help="a customer account: a customer (site.customer.name) it may see; repeatable",
    )  # fmt: skip
    user_add.add_argument(
        "-f", "--file", type=Path, required=True, metavar="USERS.yaml",
        help="the users file (web.users_file in CENTER.yaml); created when missing",
    )  # fmt: skip
    user_add.set_defaults(handler=cmd_user_add)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Command = args.handler
    return handler(args)
