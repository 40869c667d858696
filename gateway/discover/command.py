"""`lvgw discover CIDR... -o DRAFT.yaml`: the command line (docs/onboarding.md)."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

from pydantic import TypeAdapter

from drivers.snmp import SnmpClient, SnmpDriver, V3Credentials
from drivers.snmp.lean import LeanSnmpClient
from drivers.snmp.pacing import Pacer
from gateway.config import ConfigError
from gateway.config.errors import print_problems
from gateway.config.load import BUILTIN_PROFILES
from gateway.config.types import Duration
from gateway.discover.ami import AmiLogin
from gateway.discover.classify import answer_oids
from gateway.discover.draft import render
from gateway.discover.isapi import IsapiLogin
from gateway.discover.modbus import ModbusAsking
from gateway.discover.probe import Asking, Credential, PacedClient
from gateway.discover.profiles import shipped_profiles
from gateway.discover.run import Plan, sweep
from gateway.discover.scope import Scope, ScopedClient, ScopeError, parse_networks, parse_ports

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
SITE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "discover",
        help="sweep address ranges over SNMP and write a draft site file",
        description="Probe only the given ranges (at most --rate requests/s), recognise "
        "devices by the profiles' match: rules, propose parent links from LLDP and the "
        "switches' forwarding tables, and write a commented draft site file.",
    )
    p.add_argument("ranges", nargs="+", metavar="CIDR", help="address ranges: 192.0.2.0/24")
    p.add_argument("-o", "--output", type=Path, required=True, help="the draft site file")
    p.add_argument("--force", action="store_true", help="replace the output file if it exists")
    p.add_argument(
        "--port", default="161", help="SNMP port(s): 161, 1161,1162 or 20000-20015 (161)"
    )
    p.add_argument(
        "--community", action="append", default=[], metavar="C",
        help="a v2c community to try, in order (repeatable; default: public)",
    )  # fmt: skip
    p.add_argument("--v3-user", metavar="USER", help="an SNMPv3 user to try after the communities")
    p.add_argument("--auth", default="sha", choices=["md5", "sha", "sha256", "sha512"])
    p.add_argument("--auth-key-file", type=Path, metavar="FILE")
    p.add_argument("--priv", default="aes", choices=["des", "aes", "aes256"])
    p.add_argument("--priv-key-file", type=Path, metavar="FILE")
    p.add_argument(
        "--isapi-user", metavar="USER",
        help="also ask every address for Hikvision ISAPI deviceInfo, as USER (digest)",
    )  # fmt: skip
    p.add_argument("--password-file", type=Path, metavar="FILE", help="the ISAPI password")
    p.add_argument("--isapi-port", type=int, default=80, help="ISAPI's HTTP(S) port (80)")
    p.add_argument("--isapi-scheme", choices=["http", "https"], default="http")
    p.add_argument(
        "--ami-user", metavar="USER",
        help="also ask every address for an Asterisk manager interface, logging in as USER",
    )  # fmt: skip
    p.add_argument("--ami-secret-file", type=Path, metavar="FILE", help="the AMI secret")
    p.add_argument("--ami-port", type=int, default=5038, help="the AMI port (5038)")
    p.add_argument(
        "--modbus", action="store_true",
        help="also ask each address no profile recognised over Modbus TCP (listed, not added)",
    )  # fmt: skip
    p.add_argument("--modbus-port", type=int, default=502, help="Modbus TCP port (502)")
    p.add_argument("--modbus-unit", type=int, default=1, help="the unit id asked (1)")
    p.add_argument(
        "--rate", type=float, default=50.0, help="at most this many requests per second (50)"
    )
    p.add_argument("--concurrency", type=int, default=16, help="addresses probed at once (16)")
    p.add_argument("--timeout", default="1s", help="per request (1s)")
    p.add_argument("--retries", type=int, default=1, help="per request (1)")
    p.add_argument("--yes", action="store_true", help="sweep a range larger than a /22")
    p.add_argument(
        "--profile-dir", type=Path, action="append", default=[], metavar="DIR",
        help="profiles of your own, before the shipped ones (repeatable)",
    )  # fmt: skip
    p.add_argument("--site-id", default="new-site", help="the draft's site id (new-site)")
    p.add_argument("--quiet", action="store_true", help="no progress on standard error")
    p.set_defaults(func=cmd_discover)


def _secret(path: Path, what: str) -> str:
    try:
        text = path.read_text().strip()
    except OSError as exc:
        raise ScopeError(f"{what} {path}: {exc.strerror}") from None
    if not text:
        raise ScopeError(f"{what} {path} is empty")
    return text


def credentials(args: argparse.Namespace) -> tuple[Credential, ...]:
    out = [
        Credential(
            f"v2c community #{n}", "2c", community,
            site_section={"version": "2c", "community": community},
        )
        for n, community in enumerate(args.community or ["public"], start=1)
    ]  # fmt: skip
    if args.v3_user:
        if not args.auth_key_file:
            raise ScopeError("--v3-user needs --auth-key-file (and --priv-key-file for privacy)")
        auth_key = _secret(args.auth_key_file, "--auth-key-file")
        section: dict[str, Any] = {"version": 3, "user": args.v3_user, "auth": args.auth}
        section["auth_key_file"] = str(args.auth_key_file.resolve())
        if args.priv_key_file:
            section |= {"priv": args.priv, "priv_key_file": str(args.priv_key_file.resolve())}
        v3 = V3Credentials(args.v3_user, args.auth, auth_key)
        if args.priv_key_file:
            priv_key = _secret(args.priv_key_file, "--priv-key-file")
            v3 = V3Credentials(args.v3_user, args.auth, auth_key, args.priv, priv_key)
        out.append(Credential(f"v3 user {args.v3_user}", "3", v3=v3, site_section=section))
    return tuple(out)


def isapi_login(args: argparse.Namespace) -> IsapiLogin | None:
    if args.isapi_user is None:
        if args.password_file is not None:
            raise ScopeError("--password-file is the ISAPI password: give --isapi-user too")
        return None
    if args.password_file is None:
        raise ScopeError("--isapi-user needs --password-file")
    if not 1 <= args.isapi_port <= 65535:
        raise ScopeError("--isapi-port is 1-65535")
    password = _secret(args.password_file, "--password-file").splitlines()[0]
    return IsapiLogin(
        args.isapi_user, password, args.password_file.resolve(), args.isapi_port,
        args.isapi_scheme,
    )  # fmt: skip


def ami_login(args: argparse.Namespace) -> AmiLogin | None:
    if args.ami_user is None:
        if args.ami_secret_file is not None:
            raise ScopeError("--ami-secret-file is the AMI secret: give --ami-user too")
        return None
    if args.ami_secret_file is None:
        raise ScopeError("--ami-user needs --ami-secret-file")
    if not 1 <= args.ami_port <= 65535:
        raise ScopeError("--ami-port is 1-65535")
    secret = _secret(args.ami_secret_file, "--ami-secret-file").splitlines()[0]
    return AmiLogin(args.ami_user, secret, args.ami_secret_file.resolve(), args.ami_port)


def modbus_asking(args: argparse.Namespace, timeout: float) -> ModbusAsking | None:
    if not args.modbus:
        return None
    if not 1 <= args.modbus_port <= 65535 or not 0 <= args.modbus_unit <= 255:
        raise ScopeError("--modbus-port is 1-65535 and --modbus-unit 0-255")
    return ModbusAsking(args.modbus_port, args.modbus_unit, timeout)


class _Progress:
    """One line on standard error, rewritten at most every half second."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._last = 0.0

    def __call__(self, probed: int, total: int, answered: int) -> None:
        now = time.monotonic()
        if probed < total and now - self._last < 0.5:
            return
        self._last = now
        self.stream.write(f"discover: {probed}/{total} probed, {answered} answered\n")
        self.stream.flush()


def cmd_discover(args: argparse.Namespace) -> int:
    try:
        scope = Scope(parse_networks(args.ranges), parse_ports(args.port))
        scope.check_size(args.yes)
        asking = Asking(
            credentials(args),
            (),
            TypeAdapter(Duration).validate_python(args.timeout),
            max(0, args.retries),
        )
        if args.rate <= 0 or args.concurrency < 1:
            raise ScopeError("--rate and --concurrency must be positive")
        if not SITE_ID.match(args.site_id):
            raise ScopeError("--site-id: lower-case letters, digits and '-' (e.g. site-001)")
        isapi = isapi_login(args)
        modbus = modbus_asking(args, asking.timeout)
        ami = ami_login(args)
        if args.output.exists() and not args.force:
            raise ScopeError(f"{args.output} exists: give --force to replace it")
        profiles = shipped_profiles([*args.profile_dir, BUILTIN_PROFILES])
    except (ScopeError, ValueError) as exc:
        print(f"lvgw discover: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ConfigError as exc:
        print_problems(exc)
        return EXIT_USAGE
    asking = Asking(
        asking.credentials, tuple(answer_oids(profiles)), asking.timeout, asking.retries
    )
    plan = Plan(scope, asking, args.concurrency, isapi, modbus, ami)
    pacer = Pacer(args.rate)
    if not args.quiet:
        print(
            f"discover: {scope.size} address(es) x {len(scope.ports)} port(s), "
            f"at most {args.rate:g} requests/s",
            file=sys.stderr,
        )
    client = SnmpDriver(lean=LeanSnmpClient(max_in_flight=args.concurrency * 2, pacer=pacer))
    try:
        progress = None if args.quiet else _Progress(sys.stderr)
        text = asyncio.run(_run(plan, profiles, client, pacer, progress, args.site_id))
    except KeyboardInterrupt:
        return EXIT_FAILURE
    _write(args.output, text)
    if not args.quiet:
        print(f"discover: wrote {args.output}", file=sys.stderr)
    return EXIT_OK


async def _run(
    plan: Plan,
    profiles: Any,
    driver: SnmpClient,
    pacer: Pacer,
    progress: Any,
    site_id: str,
) -> str:
    client = ScopedClient(PacedClient(driver, pacer), plan.scope)
    try:
        result = await sweep(plan, profiles, client, progress, pacer)
    finally:
        await client.close()
    return render(result, site_id)


def _write(path: Path, text: str) -> None:
    """Written whole or not at all: a temporary file beside it, then renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
