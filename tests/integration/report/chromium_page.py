"""Open a rollout report page in headless Chromium (Debian's ``chromium``): what it drew, and a screenshot.

``drawn()`` reads the summary the page writes into ``<pre id="drawn">`` (``--dump-dom``); ``screenshot()`` takes a
PNG with the same window size, so the bars' page coordinates are its pixels; ``read_png`` decodes it (8-bit RGB or
RGBA, as Chromium writes) without any imaging library.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path
from typing import Any

WINDOW = (1400, 900)


def chromium() -> str:
    found = shutil.which("chromium")
    assert found, "Debian's chromium is not installed (make deps installs it)"
    return found


def _run(url: str, *flags: str) -> str:
    with tempfile.TemporaryDirectory() as profile:
        command = [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--window-size={WINDOW[0]},{WINDOW[1]}",
            *flags,
            url,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def drawn(page: Path) -> dict[str, Any]:
    dom = _run(page.resolve().as_uri(), "--dump-dom")
    match = re.search(r'<pre id="drawn">(.*?)</pre>', dom, re.S)
    assert match and match.group(1), f"the page wrote nothing into #drawn:\n{dom[:2000]}"
    return json.loads(html.unescape(match.group(1)))


def screenshot(page: Path, target: Path) -> Path:
    _run(page.resolve().as_uri(), f"--screenshot={target}")
    assert target.exists() and target.stat().st_size > 0
    return target


def read_png(path: Path, max_rows: int = 1 << 30) -> tuple[int, int, list[bytes]]:
    """(width, height, the first ``max_rows`` rows of RGB bytes): rows depend on the one above, so a picture is
    decoded from the top."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    offset, chunks, header = 8, [], b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        offset += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(min(height, max_rows)):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                guess = left + up - corner
                pa, pb, pc = abs(guess - left), abs(guess - up), abs(guess - corner)
                best = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + best) & 0xFF
        previous = line
        rows.append(bytes(b for x in range(width) for b in line[x * channels : x * channels + 3]))
    return width, height, rows


def pixel(rows: list[bytes], x: float, y: float) -> tuple[int, int, int]:
    row = rows[int(y)]
    at = int(x) * 3
    return row[at], row[at + 1], row[at + 2]


def rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def close(a: tuple[int, int, int], b: tuple[int, int, int], tolerance: int = 12) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b))


def check_page(report: dict[str, Any], page: Path, png: Path) -> dict[str, Any]:
    """Every node has its row and every phase its bar, drawn in the phase's colour where the page says it is;
    the bars of drains that waited on a budget are hatched. Returns what was drawn."""
    picture = drawn(page)
    rows = [row["node"] for row in picture["rows"]]
    assert rows == list(report["nodes"]), (rows, list(report["nodes"]))
    for node, intervals in report["nodes"].items():
        bars = [bar["phase"] for bar in picture["bars"] if bar["node"] == node]
        assert bars == [entry["phase"] for entry in intervals], (node, bars)
    assert picture["batches"] == len(report["batches"])
    bottom = max((bar["y"] + bar["height"] for bar in picture["bars"]), default=0)
    width, height, pixels = read_png(screenshot(page, png), max_rows=int(bottom) + 2)
    assert (width, height) == WINDOW
    checked = 0
    for bar in picture["bars"]:
        if bar["width"] < 4 or bar["y"] + bar["height"] >= len(pixels) or bar["x"] + bar["width"] >= width:
            continue
        seen = pixel(pixels, bar["x"] + bar["width"] / 2, bar["y"] + bar["height"] / 4)
        assert close(seen, rgb(bar["colour"])), (bar, seen)
        if bar["blocked"]:
            lower = [
                pixel(pixels, bar["x"] + dx, bar["y"] + bar["height"] * 0.75) for dx in range(1, int(bar["width"]))
            ]
            assert any(sum(p) < 200 for p in lower), (bar, "no hatching")
        checked += 1
    assert checked >= len(picture["bars"]) // 2, f"only {checked} of {len(picture['bars'])} bars could be checked"
    picture["checked"] = checked
    return picture
