# The bench's tables: rows that carry their commands, rendered to Markdown and JSON, and checked for holes.
import json
import math
from dataclasses import dataclass, field


@dataclass
class Column:
    key: str
    header: str
    digits: int = 1          # decimals shown in Markdown; JSON keeps the value as measured


@dataclass
class Row:
    label: str
    values: dict             # column key -> number, text, or None (not measured)
    commands: list[str] = field(default_factory=list)   # exact command lines that produced the figures
    raw: list[str] = field(default_factory=list)        # files holding the tools' own output
    note: str = ""


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    setup: list[str] = field(default_factory=list)      # servers' command lines

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        return row

    def skipped(self, label: str, why: str) -> None:
        self.rows.append(Row(label, {c.key: None for c in self.columns}, note=f"skipped: {why}"))


def _cell(value, digits: int) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return f"{value:,.{digits}f}"
    return str(value)


def render_markdown(tables: list[Table], meta: dict) -> str:
    m = meta["machine"]
    lines = [f"# Metronome bench — {meta['started']} ({meta['mode']})", "",
             f"Machine: {m['nproc']} CPUs ({m['cpus_usable']} usable), {m['cpu_model']}, Linux {m['kernel']}, "
             f"host {m['hostname']}. Load average at start {meta['load_start']}, at end {meta.get('load_end')}.",
             f"Pinning: {meta['pinning']}.", f"Versions: {', '.join(f'{k} {v}' for k, v in meta['versions'].items())}.",
             ""]
    for note in meta.get("skipped", []):
        lines.append(f"- {note}")
    if meta.get("skipped"):
        lines.append("")
    for table in tables:
        lines += [f"## {table.title}", ""]
        for setup in table.setup:
            lines.append(f"Server: `{setup}`  ")
        if table.setup:
            lines.append("")
        headers = ["", *[c.header for c in table.columns], "run"]
        lines.append("| " + " | ".join(headers) + " |")
        lines.append("|" + "|".join(["---"] + ["---:"] * len(table.columns) + [":---"]) + "|")
        footnotes: list[str] = []
        for row in table.rows:
            refs = []
            for command in row.commands:
                # Two rows read from one run share its footnote.
                if command not in footnotes:
                    footnotes.append(command)
                refs.append(f"[{footnotes.index(command) + 1}]")
            tail = " ".join(refs) if refs else ""
            if row.note:
                tail = f"{tail} {row.note}".strip()
            cells = [row.label, *[_cell(row.values.get(c.key), c.digits) for c in table.columns], tail]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        for number, command in enumerate(footnotes, 1):
            lines.append(f"[{number}] `{command}`  ")
        if footnotes:
            lines.append("")
        for note in table.notes:
            lines.append(f"- {note}")
        if table.notes:
            lines.append("")
    return "\n".join(lines)


def _clean(value):
    if isinstance(value, float):
        return None if not math.isfinite(value) else round(value, 6)
    return value


def to_json(tables: list[Table], meta: dict) -> dict:
    """JSON has no NaN or infinity: such a figure is written as null and named under non_finite."""
    return {**meta, "tables": [
        {"key": t.key, "title": t.title, "setup": t.setup, "notes": t.notes,
         "columns": [{"key": c.key, "header": c.header} for c in t.columns],
         "rows": [{"label": r.label, "values": {k: _clean(v) for k, v in r.values.items()},
                   "non_finite": [k for k, v in r.values.items() if isinstance(v, float) and not math.isfinite(v)],
                   "commands": r.commands, "raw": r.raw, "note": r.note} for r in t.rows]}
        for t in tables]}


def problems(doc: dict, markdown: str, expected_keys: list[str]) -> list[str]:
    """What makes a written report unusable: missing tables, figures without a command, non-numbers."""
    found: list[str] = []
    keys = [t["key"] for t in doc.get("tables", [])]
    for key in expected_keys:
        if key not in keys:
            found.append(f"table {key!r} missing from compare.json")
    for key in ("nproc", "cpu_model", "kernel"):
        if not doc.get("machine", {}).get(key):
            found.append(f"machine.{key} missing")
    for table in doc.get("tables", []):
        if f"## {table['title']}" not in markdown:
            found.append(f"table {table['key']!r} missing from compare.md")
        if not table["rows"]:
            found.append(f"table {table['key']!r} has no rows")
        for row in table["rows"]:
            numbers = [v for v in row["values"].values() if v is not None and not isinstance(v, str)]
            if numbers and not row["commands"] and not row["note"].startswith("analytic"):
                found.append(f"{table['key']}/{row['label']}: figures without the command that produced them")
            for command in row["commands"]:
                if f"`{command}`" not in markdown:
                    found.append(f"{table['key']}/{row['label']}: command missing from compare.md")
            if row["non_finite"]:
                found.append(f"{table['key']}/{row['label']}: not a finite number: {', '.join(row['non_finite'])}")
            if not numbers and not row["note"]:
                found.append(f"{table['key']}/{row['label']}: empty row with no reason given")
    return found


def dumps(doc: dict) -> str:
    return json.dumps(doc, indent=2, allow_nan=False) + "\n"
