"""``lvgw mib compile``: MIB modules (SMIv1/SMIv2 text) to the JSON lvgw loads.

pysmi parses the modules and writes each as a JSON document (its ``jsondoc`` code
generator): plain data, so loading a compiled MIB runs no code. A module's imports are
looked up by name in the directories given, then in the IETF and IANA sources lvgw
ships (``config/mibs/src/``), then in ``/usr/share/snmp/mibs``; never on the network.
A problem is a ``MibError`` with the file and line it is at.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.mibs.store import SHIPPED_DIR, SHIPPED_SOURCES

# Where net-snmp's MIBs are on Debian (libsnmp-base).
SYSTEM_SOURCES = Path("/usr/share/snmp/mibs")
# A MIB module is text of at most a few hundred kB; a larger file is not one.
MAX_SOURCE_BYTES = 8 * 1024 * 1024
_MODULE = re.compile(rb"^\s*([A-Za-z][A-Za-z0-9-]*)\s+DEFINITIONS\s*::=\s*BEGIN", re.M)


@dataclass(frozen=True, slots=True)
class MibError(Exception):
    """A MIB that cannot be compiled, at ``file``:``line``."""

    file: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass(frozen=True, slots=True)
class _Source:
    path: Path
    text: str


def _read(path: Path) -> str:
    try:
        with path.open("rb") as source:
            data = source.read(MAX_SOURCE_BYTES + 1)
    except OSError as exc:
        raise MibError(path, 1, f"cannot read file: {exc.strerror}") from None
    if len(data) > MAX_SOURCE_BYTES:
        raise MibError(path, 1, f"file too large for a MIB module (over {MAX_SOURCE_BYTES} bytes)")
    # MIB files are ASCII by the SMI; vendors' comments hold Latin-1 and UTF-8 both.
    return data.decode("utf-8", errors="replace")


def _near(text: str, message: str) -> str:
    """pysmi says "Bad grammar near offset N": show the text there instead."""
    found = re.search(r"offset (\d+)", message)
    if not found:
        return message
    rest = text[int(found.group(1)) :].split("\n", 1)[0].strip()
    return f"not valid SMI here: {rest[:40]!r}" if rest else "not valid SMI: unexpected end"


def _parse_modules(path: Path, text: str) -> list[str]:
    """The names of the modules ``text`` defines, checking its syntax."""
    from pysmi import error
    from pysmi.parser.dialect import smi_v1_relaxed
    from pysmi.parser.smi import parserFactory

    parser = parserFactory(**smi_v1_relaxed)()
    try:
        trees = parser.parse(text)
    except error.PySmiError as exc:
        line = exc.lineno if isinstance(getattr(exc, "lineno", None), int) else 1
        raise MibError(path, line, _near(text, exc.msg)) from None
    except RecursionError:
        raise MibError(path, 1, "nested too deep to be a MIB module") from None
    names = [str(tree[0]) for tree in trees]
    if not names:
        raise MibError(path, 1, "no MIB module in this file (NAME DEFINITIONS ::= BEGIN)")
    return names


def _line_of(text: str, pattern: str) -> int:
    found = re.search(pattern, text)
    return text.count("\n", 0, found.start()) + 1 if found else 1


def _clean(data: str, source: Path) -> str:
    """The compiled JSON without what changes from run to run (time, host, user)."""
    document: dict[str, Any] = json.loads(data)
    from pysmi import __version__

    document["meta"] = {
        "module": document.get("meta", {}).get("module"),
        "comments": [f"ASN.1 source {source.name}", f"Produced by pysmi-{__version__}"],
    }
    return json.dumps(document, indent=1) + "\n"


def search_dirs(given: Iterable[Path]) -> list[Path]:
    """Where the imports of a module are looked for, in order."""
    return list(dict.fromkeys([*given, SHIPPED_SOURCES, SYSTEM_SOURCES]))


def compile_files(files: Sequence[Path], mib_dirs: Sequence[Path], out_dir: Path) -> list[Path]:
    """Compile ``files`` (and the modules they import that lvgw does not ship compiled)
    into ``out_dir`` as ``<MODULE>.json``; return the files written."""
    from pysmi import error
    from pysmi.codegen.jsondoc import JsonCodeGen
    from pysmi.compiler import MibCompiler
    from pysmi.parser.dialect import smi_v1_relaxed
    from pysmi.parser.smi import parserFactory
    from pysmi.reader.callback import CallbackReader
    from pysmi.reader.localfile import FileReader
    from pysmi.writer.callback import CallbackWriter

    given: dict[str, _Source] = {}
    for path in files:
        text = _read(path)
        for name in _parse_modules(path, text):
            given[name] = _Source(path, text)
    dirs = search_dirs(mib_dirs)
    found: dict[str, Path] = {}

    class _Reader(FileReader):  # type: ignore[misc]  # pysmi is untyped
        """A directory's modules, remembering which file each came from."""

        def get_data(self, mibname: str, **options: Any) -> Any:
            info, text = super().get_data(mibname, **options)
            found.setdefault(mibname, Path(info.path.removeprefix("file://")))
            return info, text

    def serve_given(name: str, _ctx: object) -> str:
        source = given.get(name)
        return source.text if source else ""

    compiled: dict[str, str] = {}

    def keep(name: str, data: str, _ctx: object) -> None:
        compiled[name] = data

    compiler = MibCompiler(parserFactory(**smi_v1_relaxed)(), JsonCodeGen(), CallbackWriter(keep))
    compiler.add_sources(CallbackReader(serve_given))
    compiler.add_sources(*(_Reader(str(d), recursive=False) for d in dirs if d.is_dir()))
    try:
        results = compiler.compile(*given)
    except error.PySmiError as exc:  # pysmi raises only a few errors; most come as results
        first = next(iter(given.values()))
        raise MibError(first.path, 1, str(exc)) from None
    _raise_failures(results, given, found, dirs)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    shipped = {p.stem for p in SHIPPED_DIR.glob("*.json")}
    for name, data in sorted(compiled.items()):
        if name not in given and name in shipped:
            continue  # lvgw has it compiled already
        origin = given[name].path if name in given else found.get(name, Path(name))
        target = out_dir / f"{name}.json"
        target.write_text(_clean(data, origin))
        written.append(target)
    return written


def _raise_failures(
    results: dict[str, Any], given: dict[str, _Source], found: dict[str, Path], dirs: list[Path]
) -> None:
    for name, status in results.items():
        if status == "missing":
            looked = ", ".join(str(d) for d in dirs)
            message = f"imports from {name}, which is in none of: {looked} (give its file's"
            message += " directory with --mib-dir)"
            imports = rf"FROM\s+{re.escape(name)}\b"
            # The module that imports it: one given, or one of their imports found here.
            sources = [*given.values(), *(_Source(p, _read(p)) for p in found.values())]
            importer = next((s for s in sources if re.search(imports, s.text)), None)
            if importer is None:  # pysmi asked for it, yet no text names it
                first = next(iter(given.values()))
                raise MibError(first.path, 1, f"a module it needs {message}")
            raise MibError(importer.path, _line_of(importer.text, imports), message)
    for name, status in results.items():
        if status == "failed":
            exc = status.error
            line = getattr(exc, "lineno", None)
            message = exc.msg.removesuffix(f" at MIB {name}")
            if name in given:
                source = given[name]
                if not isinstance(line, int):
                    symbol = re.search(r'"([A-Za-z][A-Za-z0-9-]*)"|: (\S+)$', message)
                    word = next((g for g in symbol.groups() if g), "") if symbol else ""
                    line = _line_of(source.text, rf"\b{re.escape(word)}\b") if word else 1
                raise MibError(source.path, line, _near(source.text, message))
            path = found.get(name, Path(name))
            text = _read(path) if path.is_file() else ""
            where = line if isinstance(line, int) else 1
            raise MibError(path, where, f"module {name}: {_near(text, message)}")
