"""HTML to PDF with headless Chromium's print-to-PDF.

Why Chromium: it is already a dependency of the house (the status page's browser
tests, Makefile sysdeps), it prints what the browser shows (the same HTML and style
sheet as the page, A4, backgrounds on), and it needs no Python package with native
libraries of its own (WeasyPrint would bring Pango and its own CSS engine, which
renders the same page differently).

Each PDF is one short-lived ``chromium --headless --print-to-pdf`` on a file in a
private temporary directory, every host name resolving nowhere (nothing is fetched
from the network), with a deadline; at most `CONCURRENT` at once. The pages printed
carry no script (Chromium's switch that turns scripts off turns printing off too).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

CONCURRENT = 2
TIMEOUT = 60.0


class PdfError(Exception):
    """Chromium could not print the page (not installed, failed, too slow)."""


def chromium_args(chromium: str, profile: Path, out: Path, page: Path) -> list[str]:
    args = [
        chromium, "--headless", "--disable-gpu", "--no-first-run", "--disable-sync",
        "--disable-background-networking", "--disable-component-update",
        "--disable-extensions",
        "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={profile}",
        "--no-pdf-header-footer", f"--print-to-pdf={out}", page.as_uri(),
    ]  # fmt: skip
    if os.geteuid() == 0:
        args.insert(1, "--no-sandbox")  # Chromium's sandbox refuses to run as root
    return args


class Printer:
    """Prints at most `CONCURRENT` PDFs at once (one per app: a semaphore belongs to
    its event loop)."""

    def __init__(self, chromium: str = "chromium", timeout: float = TIMEOUT) -> None:
        self.chromium = chromium
        self.timeout = timeout
        self._slots = asyncio.Semaphore(CONCURRENT)

    async def pdf(self, html: str) -> bytes:
        async with self._slots:
            return await html_to_pdf(html, self.chromium, self.timeout)


async def html_to_pdf(html: str, chromium: str = "chromium", limit: float = TIMEOUT) -> bytes:
    """``html`` printed to A4 by ``chromium``; PdfError with why when it cannot."""
    with tempfile.TemporaryDirectory(prefix="lvgw-center-pdf-") as tmp:
        page, out = Path(tmp) / "page.html", Path(tmp) / "page.pdf"
        page.write_text(html, encoding="utf-8")
        try:
            proc = await asyncio.create_subprocess_exec(
                *chromium_args(chromium, Path(tmp) / "profile", out, page),
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
        except OSError as exc:
            raise PdfError(f"cannot start {chromium}: {exc.strerror}") from exc
        try:
            async with asyncio.timeout(limit):
                _, err = await proc.communicate()
        except TimeoutError:
            raise PdfError(f"{chromium} did not print within {limit:g} s") from None
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        if proc.returncode != 0 or not out.is_file():
            tail = err.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise PdfError(f"{chromium} exited {proc.returncode}: {tail[0][:300]}")
        return out.read_bytes()
