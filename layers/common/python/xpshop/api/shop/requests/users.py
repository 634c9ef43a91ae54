"""Request bodies of /api/v1/users (ShopUsersFunction): see the package's docstring."""

from typing import Annotated

from pydantic import BaseModel, Field

from ...fields import PATTERN_RULES, SPACE, body_config
from .common import EXAMPLE_UID, AccountId, DiscordId


class Account(BaseModel):
    model_config = body_config([{"id": EXAMPLE_UID}], strip=True)
    id: AccountId


USERNAME_PATTERN = f"^{SPACE}*[A-Za-z0-9_]{{1,16}}{SPACE}*$"
PATTERN_RULES.setdefault(USERNAME_PATTERN, "a Minecraft username: 1-16 letters, digits or _")


class LinkBody(BaseModel):
    model_config = body_config([{"discordid": EXAMPLE_UID, "minecraft_username": "Notch"}], strip=True)
    discordid: DiscordId
    minecraft_username: Annotated[
        str,
        Field(
            pattern=USERNAME_PATTERN,
            description="Minecraft username (1-16 letters, digits, _)",
        ),
    ]
