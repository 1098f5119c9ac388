"""Go's text/tabwriter as kubeadm's plan printer configures it: minwidth 10, tabwidth 4, padding 3, spaces.

Cells end with a tab; a column is as wide as its widest cell plus the padding (at least minwidth); the text after a
line's last tab is not part of a column. Consecutive lines with cells form one block of columns.
"""

from __future__ import annotations

MIN_WIDTH, PADDING = 10, 3


def format_table(rows: list[list[str]]) -> str:
    """``rows``: each line's cells; every cell but the last is tab-terminated (one column each)."""
    columns = max((len(r) - 1 for r in rows), default=0)
    widths = []
    for index in range(columns):
        cells = [r[index] for r in rows if len(r) - 1 > index]
        widths.append(max(MIN_WIDTH, max((len(c) for c in cells), default=0) + PADDING))
    lines = []
    for row in rows:
        padded = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        lines.append("".join(padded) + row[-1])
    return "\n".join(lines) + "\n"
