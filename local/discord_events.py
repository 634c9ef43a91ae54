"""Sample Discord events for `sam local invoke` / `make invoke`, signed with a published sample key.

    python -m local.discord_events            # (re)write events/discord_*.json, signed now

Discord refuses signatures older than 5 minutes and so does the webhook: re-sign right before invoking.
Invoke with the sample key's public half: DISCORD_PUBLIC_KEY=<SAMPLE_PUBLIC_KEY> (printed by this script).
The key is for samples only; never configure it on a real application.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nacl.signing import SigningKey

from local import REPO_ROOT, events

SAMPLE_SEED = bytes.fromhex("78707368" * 8)  # fixed "xpsh" x 8: anyone can sign with it, by design
SAMPLE_KEY = SigningKey(SAMPLE_SEED)
SAMPLE_PUBLIC_KEY = SAMPLE_KEY.verify_key.encode().hex()
APP_ID = "900000000000000001"
GUILD = "111111111111111111"
USER = "222222222222222222"
MODERATOR = "222222222222222299"
CHANNEL = "300000000000000001"
ATTACHMENT = "1400000000000000100"


def _member(user_id: str, permissions: str) -> dict[str, Any]:
    return {
        "user": {"id": user_id, "username": "sample", "global_name": "Sample", "avatar": None},
        "roles": [],
        "permissions": permissions,
        "joined_at": "2024-01-01T00:00:00.000000+00:00",
    }


def _interaction(interaction_id: str, data: dict[str, Any], user_id: str = USER, permissions: str = "0") -> dict:
    return {
        "id": interaction_id,
        "application_id": APP_ID,
        "type": 2,
        "token": f"sample-token-{interaction_id}",
        "version": 1,
        "guild_id": GUILD,
        "channel_id": CHANNEL,
        "member": _member(user_id, permissions),
        "data": data,
    }


PAYLOADS: dict[str, dict[str, Any]] = {
    "discord_ping": {"id": "1400000000000000001", "application_id": APP_ID, "type": 1, "version": 1},
    "discord_rank": _interaction("1400000000000000002", {"id": "1", "name": "rank", "type": 1}),
    "discord_xp_give": _interaction(
        "1400000000000000003",
        {
            "id": "2",
            "name": "xp",
            "type": 1,
            "options": [
                {
                    "name": "give",
                    "type": 1,
                    "options": [
                        {"name": "user", "type": 6, "value": USER},
                        {"name": "amount", "type": 4, "value": 200},
                    ],
                }
            ],
        },
        MODERATOR,
        str(1 << 5),
    ),
    "discord_privacy_hide": _interaction(
        "1400000000000000005", {"id": "4", "name": "privacy", "type": 1, "options": [{"name": "hide", "type": 1}]}
    ),
    # /xp import with a file: Discord resolves the attachment option (type 11) to its CDN URL and size
    "discord_xp_import": _interaction(
        "1400000000000000006",
        {
            "id": "2",
            "name": "xp",
            "type": 1,
            "options": [
                {
                    "name": "import",
                    "type": 1,
                    "options": [
                        {"name": "file", "type": 11, "value": ATTACHMENT},
                        {"name": "mode", "type": 3, "value": "max"},
                        {"name": "dry_run", "type": 5, "value": True},
                    ],
                }
            ],
            "resolved": {
                "attachments": {
                    ATTACHMENT: {
                        "id": ATTACHMENT,
                        "filename": "mee6-0.json",
                        "size": 2048,
                        "content_type": "application/json; charset=utf-8",
                        "url": f"https://cdn.discordapp.com/ephemeral-attachments/{CHANNEL}/{ATTACHMENT}/mee6-0.json"
                        "?ex=6790c0de&is=678f6f5e&hm=0123456789abcdef",
                        "proxy_url": f"https://media.discordapp.net/ephemeral-attachments/{CHANNEL}/{ATTACHMENT}/"
                        "mee6-0.json?ex=6790c0de&is=678f6f5e&hm=0123456789abcdef",
                        "ephemeral": True,
                    }
                }
            },
        },
        MODERATOR,
        str(1 << 5),
    ),
    "discord_xp_export": _interaction(
        "1400000000000000007",
        {
            "id": "2",
            "name": "xp",
            "type": 1,
            "options": [{"name": "export", "type": 1, "options": [{"name": "format", "type": 3, "value": "csv"}]}],
        },
        MODERATOR,
        str(1 << 5),
    ),
    "discord_privacy_export": _interaction(
        "1400000000000000008",
        {"id": "4", "name": "privacy", "type": 1, "options": [{"name": "export", "type": 1}]},
    ),
    # asks, with the confirm and cancel buttons (a click is a MESSAGE_COMPONENT interaction: see the README)
    "discord_privacy_delete": _interaction(
        "1400000000000000006", {"id": "4", "name": "privacy", "type": 1, "options": [{"name": "delete", "type": 1}]}
    ),
}


def signed_event(payload: dict[str, Any], timestamp: int | None = None) -> dict[str, Any]:
    """An API Gateway HTTP API (v2) event carrying `payload`, signed by the sample key at `timestamp`."""
    return events.signed_interaction_event(SAMPLE_KEY, payload, timestamp)


def deferred_event(payload: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the worker receives from the interactions queue: a deferred interaction (by default `/xp recalc
    user:`)."""
    payload = payload or _interaction(
        "1400000000000000004",
        {
            "id": "2",
            "name": "xp",
            "type": 1,
            "options": [{"name": "recalc", "type": 1, "options": [{"name": "user", "type": 6, "value": USER}]}],
        },
        MODERATOR,
        str(1 << 5),
    )
    record = events.sqs_record(
        json.dumps(payload, separators=(",", ":")),
        queue="xpshop-interactions",
        message_id="sqs-deferred-1",
        receipt_handle="rh-deferred-1",
        attributes={"ApproximateReceiveCount": "1", "SentTimestamp": "1795400000000"},
    )
    return events.records_event([record])


def stream_event() -> dict[str, Any]:
    """A table stream record of a member going from level 0 to level 1 with a message's XP (earned: it pays
    creditsPerLevel in a shop server), what the effects function gets."""

    def image(xp: int, level: int) -> dict[str, Any]:
        return {
            "PK": {"S": f"GUILD#{GUILD}"},
            "SK": {"S": f"MEMBER#{USER}"},
            "guildId": {"S": GUILD},
            "userId": {"S": USER},
            "xp": {"N": str(xp)},
            "level": {"N": str(level)},
            "levelSource": {"S": "earned"},
        }

    dynamodb = {
        "ApproximateCreationDateTime": 1795400000,
        "Keys": {"PK": {"S": f"GUILD#{GUILD}"}, "SK": {"S": f"MEMBER#{USER}"}},
        "OldImage": image(150, 0),
        "NewImage": image(160, 1),
        "SequenceNumber": "100000000000000000001",
        "SizeBytes": 120,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    return events.records_event(
        [events.stream_record("MODIFY", dynamodb, event_id="sample-1", table="xpshop", label="sample")]
    )


def rank_stream_event() -> dict[str, Any]:
    """Stream records the rank index function receives: a member created at 160 XP, then moved to 1,200."""
    event = stream_event()
    created, moved = json.loads(json.dumps(event["Records"][0])), event["Records"][0]
    created.update(eventID="sample-0", eventName="INSERT")
    created["dynamodb"].pop("OldImage")
    created["dynamodb"]["SequenceNumber"] = "100000000000000000000"
    moved["dynamodb"]["OldImage"] = json.loads(json.dumps(moved["dynamodb"]["NewImage"]))
    moved["dynamodb"]["NewImage"]["xp"] = {"N": "1200"}
    moved["dynamodb"]["NewImage"]["level"] = {"N": "4"}
    return {"Records": [created, moved]}


def write(events_dir: Path = REPO_ROOT / "events") -> list[Path]:
    written = []
    for name, payload in PAYLOADS.items():
        written.append(_dump(events_dir / f"{name}.json", signed_event(payload)))
    written.append(_dump(events_dir / "discord_worker_deferred.json", deferred_event()))
    # /xp export finished by the worker: the answer is edited with the file attached (multipart upload)
    written.append(_dump(events_dir / "discord_worker_xp_export.json", deferred_event(PAYLOADS["discord_xp_export"])))
    written.append(_dump(events_dir / "effects_level_up.json", stream_event()))
    written.append(_dump(events_dir / "rank_index_member_changes.json", rank_stream_event()))
    return written


def _dump(path: Path, event: dict[str, Any]) -> Path:
    path.write_text(json.dumps(event, indent=2) + "\n", encoding="utf-8")
    return path


def main() -> None:
    for path in write():
        print(f"wrote {path.relative_to(REPO_ROOT)}")
    print(f"DISCORD_PUBLIC_KEY={SAMPLE_PUBLIC_KEY}  (sample key: signatures are valid for 5 minutes)")


if __name__ == "__main__":
    main()
