"""lvgw mib compile: MIB text to the JSON profiles' names are read from; bad MIBs as
FILE:LINE."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.mibs.compiler import SYSTEM_SOURCES, MibError, compile_files
from gateway.mibs.store import SHIPPED_DIR, SHIPPED_SOURCES, MibLibrary

# pysmi imports requests (for MIBs over HTTP, which lvgw never asks for), and urllib3
# probes for IPv6 with a socket as it is imported: so these are integration tests.
pytestmark = pytest.mark.integration

UCD = SYSTEM_SOURCES / "UCD-SNMP-MIB.txt"  # Debian's libsnmp-base (net-snmp's own MIBs)


def test_debians_ucd_snmp_mib_compiles_and_its_names_resolve(tmp_path: Path) -> None:
    written = compile_files([UCD], [], tmp_path)
    # Its imports (SNMPv2-SMI, -TC, -CONF, HCNUM-TC) are shipped compiled: only it is written.
    assert written == [tmp_path / "UCD-SNMP-MIB.json"]
    library = MibLibrary.over([tmp_path])
    # UCD-SNMP-MIB: ucdavis is enterprises 2021, memory 4, memAvailReal memory 6.
    assert library.resolve("UCD-SNMP-MIB::memAvailReal.0") == "1.3.6.1.4.1.2021.4.6.0"
    assert library.resolve("UCD-SNMP-MIB::laLoad") == "1.3.6.1.4.1.2021.10.1.3"
    meta = json.loads(written[0].read_text())["meta"]
    assert meta["module"] == "UCD-SNMP-MIB"
    assert meta["comments"][0] == "ASN.1 source UCD-SNMP-MIB.txt"


def test_the_modules_a_mib_imports_are_written_unless_shipped(tmp_path: Path) -> None:
    extend = SYSTEM_SOURCES / "NET-SNMP-EXTEND-MIB.txt"
    written = compile_files([extend], [], tmp_path)
    # NET-SNMP-EXTEND-MIB imports NET-SNMP-AGENT-MIB and NET-SNMP-MIB (not shipped).
    names = sorted(p.name for p in written)
    assert names == [
        "NET-SNMP-AGENT-MIB.json",
        "NET-SNMP-EXTEND-MIB.json",
        "NET-SNMP-MIB.json",
    ]


def test_a_syntax_error_is_reported_at_its_line(tmp_path: Path) -> None:
    text = UCD.read_text().replace(
        "memAvailReal OBJECT-TYPE", "memAvailReal OBJECT-TYPE OBJECT-TYPE"
    )
    line = text[: text.index("memAvailReal OBJECT-TYPE OBJECT-TYPE")].count("\n") + 1
    bad = tmp_path / "UCD-SNMP-MIB.txt"
    bad.write_text(text)
    with pytest.raises(MibError) as info:
        compile_files([bad], [], tmp_path / "out")
    assert str(info.value) == f"{bad}:{line}: not valid SMI here: 'OBJECT-TYPE'"
    assert not (tmp_path / "out").exists()


def test_a_missing_import_names_the_module_and_where_it_looked(tmp_path: Path) -> None:
    mib = tmp_path / "x.mib"
    mib.write_text("X-MIB DEFINITIONS ::= BEGIN\nIMPORTS\n  acme FROM ACME-SMI;\nEND\n")
    with pytest.raises(MibError) as info:
        compile_files([mib], [tmp_path / "vendor"], tmp_path / "out")
    looked = f"{tmp_path / 'vendor'}, {SHIPPED_SOURCES}, {SYSTEM_SOURCES}"
    assert str(info.value) == (
        f"{mib}:3: imports from ACME-SMI, which is in none of: {looked} (give its file's"
        " directory with --mib-dir)"
    )


def test_an_import_is_found_in_a_mib_dir(tmp_path: Path) -> None:
    vendor = tmp_path / "vendor"
    vendor.mkdir()
    (vendor / "ACME-SMI.txt").write_text(
        "ACME-SMI DEFINITIONS ::= BEGIN\nIMPORTS enterprises FROM SNMPv2-SMI;\n"
        "acme OBJECT IDENTIFIER ::= { enterprises 99999 }\nEND\n"
    )
    mib = tmp_path / "x.mib"
    mib.write_text(
        "X-MIB DEFINITIONS ::= BEGIN\nIMPORTS acme FROM ACME-SMI;\n"
        "acmeThing OBJECT IDENTIFIER ::= { acme 7 }\nEND\n"
    )
    compile_files([mib], [vendor], tmp_path / "out")
    library = MibLibrary.over([tmp_path / "out"])
    assert library.resolve("X-MIB::acmeThing.1") == "1.3.6.1.4.1.99999.7.1"


def test_an_unknown_parent_is_reported_at_its_line(tmp_path: Path) -> None:
    mib = tmp_path / "y.mib"
    mib.write_text(
        "Y-MIB DEFINITIONS ::= BEGIN\nIMPORTS enterprises FROM SNMPv2-SMI;\n\n"
        "yThing OBJECT IDENTIFIER ::= { nowhere 1 }\nEND\n"
    )
    with pytest.raises(MibError, match=rf"^{mib}:4: Unknown parent symbol: nowhere$"):
        compile_files([mib], [], tmp_path / "out")


def test_a_file_that_is_no_mib_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("hello\nworld\n")
    with pytest.raises(MibError, match=rf"^{junk}:1: not valid SMI here: 'hello'$"):
        compile_files([junk], [], tmp_path / "out")


def test_the_shipped_modules_are_their_sources_compiled(tmp_path: Path) -> None:
    sources = sorted(SHIPPED_SOURCES.glob("*.txt"))
    written = compile_files(sources, [], tmp_path)
    assert {p.name for p in written} == {p.name for p in SHIPPED_DIR.glob("*.json")}
    for path in written:
        fresh, shipped = (
            json.loads(path.read_text()),
            json.loads((SHIPPED_DIR / path.name).read_text()),
        )
        fresh.pop("meta"), shipped.pop("meta")  # says which pysmi wrote it
        assert fresh == shipped, (
            f"{path.name}: lvgw mib compile config/mibs/src/*.txt -o config/mibs"
        )


def test_the_command_exits_2_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "BAD-MIB.txt"
    bad.write_text("BAD-MIB DEFINITIONS ::= BEGIN\n  x OBJECT IDENTIFIER ::= { y 1 \nEND\n")
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "mib", "compile", str(bad), "-o", str(tmp_path / "o")],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr == f"{bad}:3: not valid SMI here: 'END'\n"
    good = subprocess.run(
        [sys.executable, "-m", "gateway", "mib", "compile", str(UCD), "-o", str(tmp_path / "o")],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert good.returncode == 0, good.stderr
    assert good.stdout == f"wrote {tmp_path / 'o' / 'UCD-SNMP-MIB.json'}\n"


def test_a_missing_import_of_an_import_is_reported_where_it_is_imported(tmp_path: Path) -> None:
    vendor = tmp_path / "vendor"
    vendor.mkdir()
    smi = vendor / "ACME-SMI.txt"
    smi.write_text(
        "ACME-SMI DEFINITIONS ::= BEGIN\nIMPORTS\n  enterprises FROM SNMPv2-SMI\n"
        "  acmeRoot FROM ACME-ROOT-MIB;\nacme OBJECT IDENTIFIER ::= { acmeRoot 1 }\nEND\n"
    )
    mib = tmp_path / "x.mib"
    mib.write_text("X-MIB DEFINITIONS ::= BEGIN\nIMPORTS acme FROM ACME-SMI;\nEND\n")
    with pytest.raises(MibError, match=rf"^{smi}:4: imports from ACME-ROOT-MIB, which is in"):
        compile_files([mib], [vendor], tmp_path / "out")
