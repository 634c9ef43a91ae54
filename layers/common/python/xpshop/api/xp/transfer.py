"""Import and export (issue 15): query parameters and response shapes of `POST /api/xp/import/{guildId}`,
`GET /api/xp/import/{guildId}/jobs/{jobId}` and `GET /api/xp/export/{guildId}`, and the request body the
importer reads (documented here; the handler reads the raw body itself, JSON or CSV)."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ...levels import MAX_XP
from ..fields import SNOWFLAKE_SCHEMA

_VIEW = ConfigDict(extra="forbid", defer_build=True)

ImportMode = Literal["replace", "add", "max"]
RewardsMode = Literal["merge", "replace"]
ExportFormat = Literal["json", "csv"]


class ImportError(BaseModel):
    model_config = _VIEW
    row: int = Field(description="JSON: 1-based position in the list (across MEE6 pages); CSV: the line (header = 1)")
    id: str | None = Field(description="The id as the file wrote it (null when the row had none)")
    reason: str = Field(description="Why the row was not imported, naming the field")


class SkippedRoleReward(BaseModel):
    model_config = _VIEW
    entry: str = Field(description="Where the file has it: role_rewards[j] (pages[i].role_rewards[j] in a list)")
    level: int
    roleId: str = Field(description="The role that was not imported")
    reason: str = Field(description="Which role the file gave that level first")


class RoleRewardsImported(BaseModel):
    model_config = _VIEW
    received: int = Field(
        description="Role rewards in the file (an identical repeat, as every MEE6 page carries, counts once)"
    )
    added: int = Field(description="At levels where the guild had none")
    replaced: int = Field(description="At levels where the guild had another role (rewards=replace)")
    kept: int = Field(description="At levels where the guild keeps its own (or already had the same)")
    skipped: int = Field(
        description="Not imported: another role at a level the file gave a role earlier (one reward per level)"
    )
    errors: list[SkippedRoleReward] = Field(description="The first 100 skipped rewards, naming level and role")


class ImportResult(BaseModel):
    """The answer: 200 when the rows were applied (or validated: dryRun), 202 when they were queued."""

    model_config = _VIEW
    mode: ImportMode
    dryRun: bool
    format: Literal["json", "mee6", "export", "lurkr", "csv"] = Field(description="How the body was read")
    received: int = Field(description="Rows in the file")
    imported: int = Field(description="Members written (dryRun: rows that would change a member; 202: 0 so far)")
    unchanged: int = Field(description="Rows that matched the stored member (nothing written; dryRun: would match)")
    rejected: int = Field(description="Rows not imported (all of them; `errors` lists the first 100)")
    errors: list[ImportError]
    roleRewards: RoleRewardsImported | None = Field(description="Role rewards the file named (MEE6), else null")
    jobId: str | None = Field(
        default=None, description="The import's record (GET .../jobs/{jobId}); absent for a dry run"
    )
    status: Literal["queued"] | None = Field(default=None, description="202 only")
    total: int | None = Field(default=None, description="202 only: rows the job will apply")
    statusUrl: str | None = Field(default=None, description="202 only: where to follow the job")


class ImportJob(BaseModel):
    model_config = _VIEW
    jobId: str
    status: Literal["queued", "running", "done", "failed"]
    mode: ImportMode
    format: Literal["json", "mee6", "export", "csv"]
    received: int
    total: int = Field(description="Valid rows to apply")
    processed: int = Field(description="Rows applied so far (imported + unchanged + rejected while writing)")
    imported: int
    unchanged: int
    rejected: int = Field(description="Rows not imported: when the file was read, and while writing")
    errors: list[ImportError] = Field(description="The first 100 rejected rows")
    roleRewards: RoleRewardsImported | None
    createdAt: int
    finishedAt: int | None
    failure: str | None = Field(description="Why a failed job stopped")


class ExportedMember(BaseModel):
    model_config = _VIEW
    id: str
    xp: int
    level: int = Field(description="Derived from XP with the guild's curve (the importer ignores it)")
    messages: int
    hidden: bool = Field(
        description='The member\'s privacy choice (true: public views show "Hidden member"); an import of this '
        "file hides them too"
    )


class ExportPart(BaseModel):
    model_config = _VIEW
    guildId: str
    members: list[ExportedMember] = Field(description="XP descending, ties by id ascending")
    next: str | None = Field(description="Cursor of the next part (also in the Link header); null at the end")


# The import body, documented for clients and the fuzzer (the handler reads it raw). The file is refused
# (400) only as a whole: not JSON/CSV, not one of the shapes below, too many rows, a bad MEE6 role reward,
# a CSV without its header. A row that breaks the row rule is not refused: it is counted and reported in
# `errors` (so a list's items may be anything; the row rule is stated as the description and the example).
_MAX_ROWS = 100_000  # transfer.rows.MAX_ROWS
_MAX_REWARD_LEVEL = 10_000  # transfer.parse.MAX_REWARD_LEVEL
_ROW_RULE = (
    f"A row: {{id: Discord user id (17-20 digits), xp: whole number 0..{MAX_XP}, messages (optional): "
    "the same}; a row that breaks it is reported in errors, not refused"
)
# rows of ours (a plain list, an export) may also state the member's privacy choice; MEE6 and Lurkr never do
_OWN_ROW_RULE = _ROW_RULE.replace(
    "the same}",
    "the same, hidden (optional): true hides the member, false or absent leaves their privacy choice as it is}",
)
_ROWS = {"type": "array", "maxItems": _MAX_ROWS, "items": {"description": _OWN_ROW_RULE}}
_MEE6_PAGE = {
    "type": "object",
    "required": ["players"],
    "description": "A MEE6 leaderboard page (mee6.xyz/api/plugins/levels/leaderboard/<guild>); players are "
    "rows with message_count for messages",
    "properties": {
        "players": {**_ROWS, "items": {"description": _ROW_RULE.replace("messages", "message_count")}},
        "role_rewards": {
            "type": ["array", "null"],
            "description": "The page's role rewards (null or absent: none); the first role at each level is kept",
            "items": {
                "type": "object",
                "required": ["rank", "role"],
                "properties": {
                    "rank": {"type": "integer", "minimum": 1, "maximum": _MAX_REWARD_LEVEL, "description": "The level"},
                    "role": {"type": "object", "required": ["id"], "properties": {"id": SNOWFLAKE_SCHEMA}},
                },
            },
        },
    },
}
_EXPORT = {
    "type": "object",
    "required": ["members"],
    "description": "An xpshop export part (GET /api/xp/export)",
    "properties": {"members": _ROWS},
    "not": {"required": ["players"]},  # an object with players is a MEE6 page
}
_LURKR = {
    "type": "object",
    "required": ["levels"],
    "description": "A Lurkr leveling backup; levels are rows with userId for id and messageCount for messages",
    "properties": {"levels": {**_ROWS, "items": {"description": _ROW_RULE}}},
    "not": {"anyOf": [{"required": ["players"]}, {"required": ["members"]}]},  # those read first
}
# A saved API answer, {"success": true, "data": {...}}, is read as its data.
_ENVELOPE = {
    "type": "object",
    "required": ["success", "data"],
    "properties": {"success": {"const": True}, "data": {"type": "object"}},
}


def _or_enveloped(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "anyOf": [
            {**schema, "not": {"anyOf": [_ENVELOPE, *([schema["not"]] if "not" in schema else [])]}},
            {**_ENVELOPE, "properties": {"success": {"const": True}, "data": schema}},
        ],
        "description": schema["description"] + ", as is or as the data of a saved API answer",
    }


_NOT_A_ROW = {  # what makes a list a list of pages or of export parts: its first item
    "anyOf": [
        {"type": "object", "required": ["players"]},
        {"type": "object", "required": ["members"]},
        {**_ENVELOPE, "properties": {"success": {"const": True}, "data": {"type": "object", "required": ["members"]}}},
    ]
}
# CSV: a header row naming the columns (id, xp and optionally messages and hidden; other names are read too:
# userId, exp, ... see the importer), then one row a line; 100,000 characters here (the importer takes 10 MB).
CSV_PATTERN = r"^(?:\r?\n)*id,xp(?:,messages)?(?:,hidden)?\r?\n[^\x00]*$"
IMPORT_BODY: dict[str, Any] = {
    "required": True,
    "description": "A JSON list of rows, MEE6 leaderboard page(s), an xpshop export, a Lurkr backup, or CSV "
    "with a header row "
    "naming id and xp (and optionally messages and hidden: true or false). UTF-8 (UTF-16 with its BOM, or the "
    "declared charset; a CSV "
    "that is not UTF-8 is read as Windows-1252), 10 MB at most (gzip accepted with Content-Encoding), "
    "100,000 rows at most.",
    "content": {
        "application/json": {
            "schema": {
                "anyOf": [
                    {**_ROWS, "prefixItems": [{"not": _NOT_A_ROW}], "description": "Rows (see the example)"},
                    _or_enveloped(_MEE6_PAGE),
                    {"type": "array", "minItems": 1, "items": _MEE6_PAGE, "description": "MEE6 pages"},
                    _or_enveloped(_EXPORT),
                    {"type": "array", "minItems": 1, "items": _or_enveloped(_EXPORT), "description": "Export parts"},
                    _or_enveloped(_LURKR),
                ]
            },
            "example": [{"id": "123456789012345678", "xp": 1500, "messages": 42}],
        },
        "text/csv": {
            "schema": {"type": "string", "maxLength": 100_000, "pattern": CSV_PATTERN},
            "example": "id,xp,messages\r\n123456789012345678,1500,42\r\n",
        },
    },
}
