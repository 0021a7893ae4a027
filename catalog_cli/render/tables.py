"""Tables and summaries for people: clip lists, search hits, the ingest summary, the refresh plan, the pipeline's
steps and the database status. Every cell is data shown literally (LiteralTable); JSON goes through `export`."""

from __future__ import annotations

import re
from typing import Any

from catalog_cli.render import err, out
from catalog_cli.render.text import LiteralTable, count, literal, visible


def human_size(size: float | None) -> str:
    if size is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return "-"


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    total = int(round(seconds))
    return f"{total // 3600:d}:{total % 3600 // 60:02d}:{total % 60:02d}"


def print_summary(summary, dry_run: bool) -> None:
    """The ingest summary: counts per outcome on stdout, then one line per failed, busy or skipped file on stderr."""
    title = "Dry run (nothing written)" if dry_run else "Ingest summary"
    table = LiteralTable(title=title, show_header=True, header_style="bold")
    table.add_column("outcome")
    table.add_column("files", justify="right")
    for key, label in (("new", "new"), ("existing", "already cataloged"), ("duplicates", "duplicates"),
                       ("moved", "moved"), ("resumed", "resumed (finished an earlier run's work)"),
                       ("in_progress", "in progress (another ingest has them)"), ("not_video", "not video"),
                       ("failed", "failed")):
        if key not in ("resumed", "in_progress") or getattr(summary, key):
            table.add_row(label, str(len(getattr(summary, key))))
    out.print(table)
    if summary.analysis_usage:
        usage = summary.analysis_usage
        out.print(f"analysis used {int(usage['prompt_tokens']):,} prompt + {int(usage['output_tokens']):,} output tokens "
                  f"in {int(usage['requests'])} requests, estimated ${usage['estimated_cost_usd']:.4f}", highlight=False)
    for item in summary.failed:
        err.print(f"[red]failed[/] {literal(item.path)}: {literal(item.reason)}", highlight=False, soft_wrap=True)
    for item in summary.in_progress:
        err.print(f"[cyan]in progress[/] {literal(item.path)}: {literal(item.reason)}", highlight=False, soft_wrap=True)
    for item in summary.not_video:
        if item.reason and "video extension" in item.reason:
            err.print(f"[yellow]not video[/] {literal(item.path)}: {literal(item.reason)}", highlight=False, soft_wrap=True)


def clips_table(rows: list[dict[str, Any]]) -> LiteralTable:
    """`video-catalog list`: one row per clip."""
    table = LiteralTable(title=count(len(rows), "clip"), header_style="bold")
    for column, justify in (("clip", "left"), ("file", "left"), ("duration", "right"), ("size", "right"),
                            ("resolution", "right"), ("fps", "right"), ("codec", "left"), ("HDR", "left"),
                            ("shot", "left"), ("camera", "left"), ("recorded", "left"), ("status", "left"),
                            ("path", "left")):
        table.add_column(column, justify=justify, overflow="fold")
    for row in rows:
        resolution_text = f"{row['width']}x{row['height']}" if row["width"] else "-"
        fps_text = f"{row['frame_rate']:.3g}" if row["frame_rate"] else "-"
        recorded = row["recorded_at"].strftime("%Y-%m-%d %H:%M") if row["recorded_at"] else "-"
        table.add_row(row["clip_id"], row["file_name"], duration_text(row["duration_seconds"]), human_size(row["size_bytes"]),
                      resolution_text, fps_text, row["video_codec"] or "-", row["hdr_format"] or "-",
                      row["shot_type"] or "-", row["camera"] or "-", recorded, row["status"], row["path"])
    return table


def highlighted(snippet: str, words: frozenset[str] = frozenset()):
    """The snippet with the words search marked [like this] in bold, everything else literal (no markup).
    Full-text search ('simple' config) marks only the query's own words, so a bracket around anything else is
    footage text (`[bold]`, `[/]` in a transcript) and stays as it is."""
    from rich.text import Text

    text = Text()
    for part in re.split(r"(\[[^\[\]]*\])", snippet):
        if len(part) > 2 and part.startswith("[") and part.endswith("]") and part[1:-1].lower() in words:
            text.append(visible(part[1:-1]), style="bold yellow")
        else:
            text.append(visible(part))
    return text


def print_hits(hits: list, title: str, words: frozenset[str] = frozenset()) -> None:
    """Search and `similar` hits: the match strength in percent (search) or the similarity (similar), and why."""
    from catalog_resources.analysis.transcript_export import timecode

    table = LiteralTable(title=title, header_style="bold")
    for column in ("#", "match", "clip", "file", "at", "why", "thumbnail"):
        table.add_column(column, overflow="fold")
    for i, hit in enumerate(hits, start=1):
        at = (f"{timecode(hit.start_seconds)}–{timecode(hit.end_seconds)}" if hit.start_seconds is not None else "-")
        match = f"{hit.strength} %" if hit.strength is not None else f"{hit.score:.4g}"
        table.add_row(str(i), match, hit.clip_id, hit.file_name, at, why_cell(hit, words), hit.thumbnail_path or "-")
    out.print(table)


def why_cell(hit, words: frozenset[str]):
    """The strongest reason (its source and text, the query's words in bold) and the words found; a hit without
    reasons (`similar`) shows its snippet and the lists that found it."""
    from rich.text import Text

    if not getattr(hit, "reasons", None):
        why = highlighted(hit.snippet or "-", words)
        why.append(f"  ({', '.join(hit.matched_by)})", style="dim")
        return why
    first = hit.reasons[0]
    why = Text(f"{first.source}: ", style="dim")
    why.append_text(highlighted(first.text or "-", words | frozenset(hit.matched_words)))
    others = [r.source for r in hit.reasons[1:] if r.source != "words"]
    tail = [f"words: {', '.join(hit.matched_words)}"] if hit.matched_words else []
    if others:
        tail.append("also " + ", ".join(dict.fromkeys(others)))
    if tail:
        why.append(f"  ({'; '.join(tail)})", style="dim")
    return why


def refresh_plan_table(pairs: list, clips: list[str]) -> LiteralTable:
    """`video-catalog refresh --dry-run`: the (asset, clip) pairs that would be redone, and why."""
    table = LiteralTable(title=f"{len(pairs)} stale (asset, clip) pairs over {count(len(clips), 'clip')}", header_style="bold")
    for column in ("clip", "asset", "reason"):
        table.add_column(column, overflow="fold")
    for pair in pairs:
        table.add_row(pair.clip_id, pair.asset, pair.reason)
    return table


def steps_table(found: list) -> LiteralTable:
    """`video-catalog steps`: each pipeline step and whether it runs by default."""
    table = LiteralTable(title="Pipeline steps", header_style="bold")
    for column in ("step", "default", "group", "description"):
        table.add_column(column, overflow="fold")
    for s in found:
        default = "on (required)" if s.required else ("on" if s.default_enabled else "off")
        table.add_row(s.name, default, s.group, s.description)
    return table


def print_db_status(info: dict[str, Any]) -> None:
    """`video-catalog db status`: one `key: value` line per fact, sizes and cluster lists made readable."""
    for key, value in info.items():
        if key == "database_bytes":
            value = human_size(value)
        elif key == "migrations":
            value = ", ".join(value) or "none"
        elif key in ("orphan_clusters", "unclaimed_clusters"):
            value = "; ".join(cluster_line(c) for c in value) or "none"
            if key == "orphan_clusters" and value != "none":
                value += " (remove with `video-catalog db prune`)"
        out.print(f"[bold]{key}[/]: {literal(value)}", highlight=False)


def cluster_line(cluster: dict[str, Any]) -> str:
    running = f", server pid {cluster['pid']}" if cluster["pid"] else ""
    return f"{cluster['path']} ({cluster['reason']}, {human_size(cluster['size_bytes'])}{running})"
