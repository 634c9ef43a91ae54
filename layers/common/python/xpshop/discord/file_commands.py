"""Commands that move a file through Discord, all deferred to the worker (definitions.DEFERRED):

- `/xp import file: [mode:] [dry_run:]` (Manage Server): the attachment is downloaded from Discord's CDN only
  (discord/attachments.py) and handed to the import service, as POST /api/xp/import would (same parsing,
  modes, per-row errors and background jobs); the answer summarises it.
- `/xp export [format:]` (Manage Server): the whole guild's export, attached to the answer (a multipart upload
  through the interaction webhook), or, when it is larger than Discord lets us attach, where to get it over HTTP.
- `/privacy export`: the member's own data in this guild as a JSON file (service/member_data.py), private.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..errors import ApiError, Unavailable
from . import embeds
from .model import Interaction, Refused, guild_of
from .rest import File

# Discord's default upload limit; the interaction states the one that applies (`attachment_size_limit`).
DEFAULT_UPLOAD_LIMIT = 8 * 1024 * 1024
MULTIPART_RESERVE = 16 * 1024  # the message and the multipart framing travel in the same request
SHOWN_ERRORS = 5  # rejected rows listed in the answer (the API and the job status list up to 100)
MODES = ("replace", "add", "max")
FORMATS = ("json", "csv")


def upload_limit(i: Interaction) -> int:
    """Bytes Discord accepts in an answer to this interaction (its `attachment_size_limit`, else the default)."""
    declared = i.raw.get("attachment_size_limit")
    if isinstance(declared, int) and not isinstance(declared, bool) and declared > MULTIPART_RESERVE:
        return declared
    return DEFAULT_UPLOAD_LIMIT


# ---------------------------------------------------------------- /xp import


def _content_type(filename: str, declared: str | None) -> str | None:
    """The type the importer reads the file as: Discord's, or the file name's when Discord gave none."""
    if declared:
        return declared
    lowered = filename.lower()
    return "text/csv" if lowered.endswith(".csv") else "application/json" if lowered.endswith(".json") else None


def xp_import(i: Interaction) -> dict[str, Any]:
    from ..service import imports
    from ..transfer import Mode
    from .attachments import Attachment, AttachmentRefused, download

    guild_id = guild_of(i)
    mode = str(i.options.get("mode") or "replace")
    if mode not in MODES:
        raise Refused(f"mode must be one of {', '.join(MODES)}.")
    dry_run = bool(i.options.get("dry_run"))
    try:
        attachment = Attachment.resolve(i.resolved, str(i.options.get("file") or ""))
        body = download(attachment)
    except AttachmentRefused as exc:
        raise Refused(str(exc)) from exc
    # the interaction id scopes the run: a redelivery that finds rows already written does not write them again
    from .xp_commands import reward_roles_refusal

    # the file's role rewards pass the checks reward-add makes (Manage Roles, hierarchy, safe roles)
    options = imports.Options(
        Mode(mode),
        dry_run,
        run_key=f"{guild_id} discord {i.id}",
        reward_check=lambda role_ids: reward_roles_refusal(i, guild_id, role_ids),
    )
    try:
        result, status = imports.import_file(
            guild_id, body, _content_type(attachment.filename, attachment.content_type), None, options
        )
    except Unavailable:
        raise
    except ApiError as exc:
        raise Refused(f"{attachment.filename} was not imported: {exc.message}") from exc
    return embeds.done(import_summary(guild_id, attachment.filename, result, queued=status == 202), ephemeral=True)


def import_summary(guild_id: str, filename: str, r: dict[str, Any], *, queued: bool) -> str:
    """The answer to /xp import: what was received, imported, unchanged, rejected (the first few rows with
    their number and reason), and for a background job its id and how to follow it."""
    if r["dryRun"]:
        head = f"🔎 Dry run of **{filename}** ({r['mode']}, {r['format']}): nothing was written."
        counts = f"Received {r['received']:,} rows: {r['imported']:,} would be imported, {r['rejected']:,} rejected."
    else:
        head = f"📥 Imported **{filename}** ({r['mode']}, {r['format']})."
        counts = (
            f"Received {r['received']:,} rows: {r['imported']:,} imported, {r['unchanged']:,} unchanged, "
            f"{r['rejected']:,} rejected."
        )
    lines = [head, counts]
    rewards = r.get("roleRewards")
    if rewards:
        counted = ", ".join(f"{k} {v}" for k, v in rewards.items() if isinstance(v, int))
        lines.append(f"Role rewards from the file: {counted}.")
        lines.extend(f"• {skipped['reason']}" for skipped in rewards.get("errors", [])[:SHOWN_ERRORS])
    for error in r["errors"][:SHOWN_ERRORS]:
        who = f" (id {error['id']})" if error.get("id") else ""
        lines.append(f"• row {error['row']}{who}: {error['reason']}")
    if r["rejected"] > SHOWN_ERRORS:
        lines.append(f"…and {r['rejected'] - SHOWN_ERRORS:,} more rejected rows.")
    if queued:
        lines.append(
            f"⏳ The other rows are imported in the background: job `{r['jobId']}` ({r['total']:,} rows). "
            f"Follow it with `GET /api/xp/import/{guild_id}/jobs/{r['jobId']}` (admin key); "
            "/leaderboard fills in as it goes."
        )
    return "\n".join(lines)


# ---------------------------------------------------------------- /xp export


def xp_export(i: Interaction) -> dict[str, Any]:
    from ..service import exports

    guild_id = guild_of(i)
    fmt = str(i.options.get("format") or "json")
    if fmt not in FORMATS:
        raise Refused(f"format must be one of {', '.join(FORMATS)}.")
    limit = upload_limit(i)
    made = exports.export_file(guild_id, fmt, limit - MULTIPART_RESERVE)
    if made is None:
        return embeds.done(
            f"The export is larger than the {limit:,} bytes Discord lets me attach here. "
            f"Download it over HTTP instead, with the admin key: `GET /api/xp/export/{guild_id}?format={fmt}` "
            "answers 10,000 members a part; follow `next` (or the `Link` header) to the end.",
            ephemeral=True,
        )
    data, count = made
    media = "text/csv" if fmt == "csv" else "application/json"
    file = File(f"xp-{guild_id}.{fmt}", data, media)
    text = f"📤 {count:,} members, XP descending. `/xp import` (or POST /api/xp/import) reads this file as is."
    return embeds.with_files(embeds.done(text, ephemeral=True), [file])


# ---------------------------------------------------------------- /privacy export


def privacy_export(i: Interaction) -> dict[str, Any]:
    from ..service import member_data

    guild_id = guild_of(i)
    document = member_data.export(guild_id, i.user_id)
    data = json.dumps(document, indent=2, ensure_ascii=False).encode()
    file = File(f"my-xp-data-{guild_id}.json", data, "application/json")
    kept = "your XP record, your rank" if document["member"] else "no XP record"
    text = (
        f"🗂️ Your data in this server: {kept}, and {len(document['audit']):,} XP audit records. "
        "Only you can see this message."
    )
    return embeds.with_files(embeds.done(text, ephemeral=True), [file])


HANDLERS: dict[tuple[str, ...], Callable[[Interaction], dict[str, Any]]] = {
    ("xp", "import"): xp_import,
    ("xp", "export"): xp_export,
    ("privacy", "export"): privacy_export,
}
