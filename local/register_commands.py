"""Upload the bot's application commands to Discord (a bulk overwrite: what is not listed is removed).

    python -m local.register_commands                 # global commands (can take a while to show up)
    python -m local.register_commands --guild <id>    # one server's commands (instant: use while developing)
    python -m local.register_commands --print         # show the definitions, upload nothing

Environment: DISCORD_APPLICATION_ID, DISCORD_BOT_TOKEN, DISCORD_API_BASE_URL (default Discord's v10 API).
The definitions live in the layer (xpshop.discord.definitions), the same ones the webhook routes by.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from xpshop.discord.definitions import definitions
from xpshop.discord.rest import DiscordError, DiscordRest, api_base


def register(application_id: str, token: str, base_url: str, guild_id: str | None = None) -> list[dict]:
    rest = DiscordRest(token, base_url)
    return rest.bulk_overwrite_commands(application_id, definitions(), guild_id=guild_id)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--guild", help="register in this server only (instant) instead of globally")
    parser.add_argument("--print", action="store_true", help="print the command definitions and exit")
    args = parser.parse_args(argv)
    if args.print:
        print(json.dumps(definitions(), indent=2))
        return 0
    app_id, token = os.environ.get("DISCORD_APPLICATION_ID", ""), os.environ.get("DISCORD_BOT_TOKEN", "")
    if not app_id or not token:
        print("set DISCORD_APPLICATION_ID and DISCORD_BOT_TOKEN (Developer Portal > your application)", file=sys.stderr)
        return 2
    base_url = api_base()
    try:
        registered = register(app_id, token, base_url, args.guild)
    except DiscordError as exc:
        print(f"Discord refused the commands: {exc}", file=sys.stderr)
        return 1
    where = f"guild {args.guild}" if args.guild else "globally"
    print(f"registered {len(registered)} commands {where}: " + ", ".join(c["name"] for c in registered))
    return 0


if __name__ == "__main__":
    sys.exit(main())
