"""Run xpshop locally: DynamoDB Local + the HTTP API, no Docker, no AWS.

    python -m local.dev            # serve until Ctrl-C
    python -m local.dev --check    # start everything, GET /api/xp/health once, exit 0/1

Environment: XPSHOP_PORT (3000), XPSHOP_HOST (127.0.0.1), XPSHOP_DDB_PORT (8000),
XPSHOP_DATA_DIR (<repo>/.local/ddb), TABLE_NAME (xpshop-local), XPSHOP_ADMIN_KEY (generated).
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Self

from local import DEFAULT_TABLE_NAME, REPO_ROOT
from local.ddb import DynamoDBLocal, DynamoDBLocalError, free_port, port_is_free
from local.queue import LocalQueue, default_queues
from local.server import LocalHttpServer, make_server
from local.stream import EFFECTS, RANK_INDEX, StreamPoller, poller_for
from local.template import TEMPLATE_PATH, create_table, functions, load_template, local_environment

DEFAULT_HTTP_PORT = 3000
DEFAULT_DDB_PORT = 8000
HEALTH_PATH = "/api/xp/health"


def local_overrides(endpoint: str, table_name: str, admin_key: str) -> dict[str, str]:
    """The variables a local run sets on top of the template's environment."""
    return {
        "RELAY_KEY_PARAM": "",  # no SSM locally: the ingestion endpoint uses XPSHOP_RELAY_KEY
        "XPSHOP_RELAY_KEY": os.environ.get("XPSHOP_RELAY_KEY") or admin_key + "-relay",
        "TABLE_NAME": table_name,
        "XPSHOP_ADMIN_KEY": admin_key,
        "ADMIN_KEY_PARAM": "",  # no SSM locally: the handlers use XPSHOP_ADMIN_KEY
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
        "POWERTOOLS_METRICS_DISABLED": "true",  # no EMF lines mixed into the logs
        "POWERTOOLS_DEV": "false",
        # Offline-mode UUIDs unless a profile service (e.g. https://api.mojang.com or a fake) is configured.
        "MINECRAFT_PROFILE_API": os.environ.get("MINECRAFT_PROFILE_API", "offline"),
        # Discord: the application's public key verifies interactions; without a bot token, role rewards
        # and announcements are skipped (credits per level still apply). DISCORD_API_BASE_URL may name a fake.
        "DISCORD_PUBLIC_KEY": os.environ.get("DISCORD_PUBLIC_KEY", ""),
        "DISCORD_BOT_TOKEN_PARAM": "",
        # Rank card URLs are signed with XPSHOP_CARD_SIGNING_KEY (make dev keeps one in .local/card-signing-key).
        "XPSHOP_CARD_SIGNING_KEY": card_signing_key(admin_key),
        "CARD_SIGNING_KEY_PARAM": "",
        **(
            {"DISCORD_CDN_BASE_URL": os.environ["DISCORD_CDN_BASE_URL"]}
            if os.environ.get("DISCORD_CDN_BASE_URL")
            else {}
        ),
        "SHOP_GUILD_IDS": os.environ.get("SHOP_GUILD_IDS", ""),
        **(
            {"LEVEL_CREDITS_MAX_PAYMENT": os.environ["LEVEL_CREDITS_MAX_PAYMENT"]}
            if os.environ.get("LEVEL_CREDITS_MAX_PAYMENT")
            else {}
        ),
        **(
            {"DISCORD_API_BASE_URL": os.environ["DISCORD_API_BASE_URL"]}
            if os.environ.get("DISCORD_API_BASE_URL")
            else {}
        ),
        # Rate limits (template parameters RateLimitPerMinute, AnonymousRateLimitPerMinute,
        # AdminRateLimitPerMinute) and PUBLIC_BASE_URL may be set from the shell for a local run (the
        # template's Globals carry them too, so without this they would be overwritten).
        **{name: os.environ[name] for name in SHELL_ENV if os.environ.get(name)},
    }


RATE_LIMIT_ENV = ("RATE_LIMIT_PER_MINUTE", "RATE_LIMIT_ANONYMOUS_PER_MINUTE", "RATE_LIMIT_ADMIN_PER_MINUTE")
SHELL_ENV = (*RATE_LIMIT_ENV, "PUBLIC_BASE_URL")


def card_signing_key(admin_key: str) -> str:
    """XPSHOP_CARD_SIGNING_KEY (make dev sets it from .local/card-signing-key), else one derived for this run."""
    return os.environ.get("XPSHOP_CARD_SIGNING_KEY") or admin_key + "-cards"


def configure_environment(
    endpoint: str, table_name: str, admin_key: str, *, template: dict[str, Any] | None = None
) -> dict[str, str]:
    """Set (and return) the process environment the handlers need to run against DynamoDB Local."""
    template = template if template is not None else load_template(TEMPLATE_PATH)
    env = local_environment(template, local_overrides(endpoint, table_name, admin_key))
    # Keep a developer's own region/credentials; DynamoDB Local (-sharedDb) accepts any.
    defaults = {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    for name, value in defaults.items():
        env[name] = os.environ.get(name) or value
    os.environ.update(env)
    return env


@dataclass
class Stack:
    """DynamoDB Local + the HTTP server (in a background thread); stop() undoes everything."""

    url: str
    ddb: DynamoDBLocal
    server: LocalHttpServer
    table_name: str
    admin_key: str
    env: dict[str, str]
    thread: threading.Thread
    queue: LocalQueue | None = None
    stream: StreamPoller | None = None
    rank_stream: StreamPoller | None = None
    _saved_env: dict[str, str | None] = field(default_factory=dict, repr=False)

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
            self.thread.join(timeout=10)
        self.server.server_close()
        for poller in (self.stream, self.rank_stream):
            if poller is not None:
                poller.stop()
        if self.queue is not None:
            self.queue.stop()
        self.ddb.stop()
        _restore_env(self._saved_env)
        self._saved_env = {}

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _restore_env(saved: dict[str, str | None]) -> None:
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def ensure_table(ddb: DynamoDBLocal, template: dict[str, Any], table_name: str) -> None:
    create_table(ddb.client(), template, table_name)


def start_stack(
    repo_root: Path = REPO_ROOT,
    *,
    http_port: int = DEFAULT_HTTP_PORT,
    ddb_port: int | None = None,
    data_dir: Path | None = None,
    table_name: str = DEFAULT_TABLE_NAME,
    admin_key: str,
    host: str = "127.0.0.1",
    quiet: bool = False,
) -> Stack:
    """Start DynamoDB Local (in memory when data_dir is None), create the table, serve the API.

    http_port 0 and ddb_port None pick free ports. The process environment is changed for the
    handlers and restored by Stack.stop().
    """
    template = load_template(Path(repo_root) / "template.yaml")
    ddb = DynamoDBLocal(port=ddb_port, db_path=data_dir, repo_root=repo_root).start()
    saved = {name: os.environ.get(name) for name in _env_names(template) | QUEUE_ENV}
    queue: LocalQueue | None = None
    stream: StreamPoller | None = None
    rank_stream: StreamPoller | None = None
    try:
        env = configure_environment(ddb.endpoint, table_name, admin_key, template=template)
        ensure_table(ddb, template, table_name)
        # The message queue: an SQS server on loopback, drained into the consumer like Lambda's poller.
        queue = LocalQueue(Path(repo_root), None, default_queues(functions(template))).start()
        queue_env = {"AWS_ENDPOINT_URL_SQS": queue.endpoint, **queue.urls}
        os.environ.update(queue_env)
        env.update(queue_env)
        # The table's stream, read like Lambda's pollers: member changes to the rank index (counters for
        # ranks and pages; the audit records and stats counters of API XP changes) and to the level-up effects.
        rank_stream = poller_for(RANK_INDEX, template, ddb.endpoint, table_name, Path(repo_root)).start()
        stream = poller_for(EFFECTS, template, ddb.endpoint, table_name, Path(repo_root)).start()
        server = make_server(Path(repo_root), template, host, http_port, quiet=quiet)
    except BaseException:
        for poller in (stream, rank_stream):
            if poller is not None:
                poller.stop()
        if queue is not None:
            queue.stop()
        ddb.stop()
        _restore_env(saved)
        raise
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    return Stack(
        url=server.url,
        ddb=ddb,
        server=server,
        table_name=table_name,
        admin_key=admin_key,
        env=env,
        thread=thread,
        queue=queue,
        stream=stream,
        rank_stream=rank_stream,
        _saved_env=saved,
    )


QUEUE_ENV = {
    "AWS_ENDPOINT_URL_SQS",
    "MESSAGES_QUEUE_URL",
    "MESSAGES_DLQ_URL",
    "INTERACTIONS_QUEUE_URL",
    "IMPORT_QUEUE_URL",
}


def _env_names(template: dict[str, Any]) -> set[str]:
    names = set(local_environment(template, {}))
    names |= {"TABLE_NAME", "XPSHOP_ADMIN_KEY", "ADMIN_KEY_PARAM", "AWS_ENDPOINT_URL_DYNAMODB"}
    names |= {"XPSHOP_CARD_SIGNING_KEY", "CARD_SIGNING_KEY_PARAM"}
    names |= {"POWERTOOLS_TRACE_DISABLED", "POWERTOOLS_METRICS_DISABLED", "POWERTOOLS_DEV"}
    names |= {"AWS_DEFAULT_REGION", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    return names | {"AWS_EC2_METADATA_DISABLED"}


# ---------------------------------------------------------------- command line


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise SystemExit(f"{name} must be a port number, got {value!r}") from None


def _pick_ddb_port(host: str = "127.0.0.1") -> int:
    wanted = _int_env("XPSHOP_DDB_PORT", DEFAULT_DDB_PORT)
    if port_is_free(wanted, host):
        return wanted
    port = free_port(host)
    print(f"DynamoDB Local: port {wanted} is busy, using {port} instead", file=sys.stderr)
    return port


KEY_FILE = REPO_ROOT / ".local" / "admin-key"
CARD_KEY_FILE = REPO_ROOT / ".local" / "card-signing-key"


def _admin_key(key_file: Path | None = None) -> tuple[str, bool]:
    """XPSHOP_ADMIN_KEY, else the key a previous run generated (kept in .local/), else a new one."""
    return _kept_secret("XPSHOP_ADMIN_KEY", key_file)


def _kept_secret(env_name: str, key_file: Path | None) -> tuple[str, bool]:
    """The variable's value, else the secret a previous run generated (kept in `key_file`), else a new one
    (written there); and whether it was generated."""
    key = os.environ.get(env_name, "").strip()
    if key:
        return key, False
    if key_file is not None and key_file.is_file():
        saved = key_file.read_text(encoding="utf-8").strip()
        if saved:
            return saved, True
    key = secrets.token_urlsafe(24)
    if key_file is not None:
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(key + "\n", encoding="utf-8")
        key_file.chmod(0o600)
    return key, True


def _banner(stack: Stack, generated_key: bool, data_dir: Path | None) -> str:
    storage = f"data in {data_dir}" if data_dir else "in memory"
    key_note = "  (generated, kept in .local/admin-key; XPSHOP_ADMIN_KEY overrides)" if generated_key else ""
    rule = "=" * 72
    return "\n".join(
        [
            rule,
            f"  xpshop local API     {stack.url}",
            f"  DynamoDB Local       {stack.ddb.endpoint}  table {stack.table_name} ({storage})",
            f"  Admin key            {stack.admin_key}{key_note}",
            f"  Relay key            {stack.env.get('XPSHOP_RELAY_KEY', '')}  (POST /api/xp/ingest/messages, /members)",
            f"  Message queue        {stack.queue.url if stack.queue else 'off'} -> XpConsumerFunction",
            "  Import jobs          local SQS xpshop-imports -> XpImportJobsFunction",
            f"  Discord interactions {stack.url}/discord/interactions  (public key: DISCORD_PUBLIC_KEY)",
            "  Rank counters        table stream -> RankIndexFunction (also the audit trail and stats of API changes)",
            f"  Level-up effects     table stream -> EffectsFunction (Discord REST: {_discord_target()})",
            f"  API docs             {stack.url}/api/docs",
            f"  Rank cards           {stack.url}/cards/<guildId>/<userId>.png  (key: .local/card-signing-key)",
            "",
            f"  curl {stack.url}{HEALTH_PATH}",
            f'  curl -H "X-API-Key: {stack.admin_key}" {stack.url}/api/xp/guilds',
            "",
            "  Ctrl-C stops the server and DynamoDB Local.",
            rule,
        ]
    )


def _discord_target() -> str:
    if not os.environ.get("DISCORD_BOT_TOKEN"):
        return "off, no DISCORD_BOT_TOKEN"
    return os.environ.get("DISCORD_API_BASE_URL") or "https://discord.com/api/v10"


def check(stack: Stack) -> int:
    """GET the health route once; 0 when it answers 200."""
    url = stack.url + HEALTH_PATH
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            status, body = response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read().decode("utf-8", "replace")
    except OSError as error:
        print(f"check: GET {url} failed: {error}", file=sys.stderr)
        return 1
    print(f"GET {HEALTH_PATH} -> {status}\n{body}")
    return 0 if status == 200 else 1


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _setup_logging() -> None:
    # The server logs handler tracebacks on the "local" logger: send them to stderr.
    log = logging.getLogger("local")
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.dev", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="self-test: start on free ports with an in-memory table, GET /api/xp/health once, exit 0/1",
    )
    args = parser.parse_args(argv)
    _setup_logging()
    # Stop cleanly (no orphan java) on SIGTERM too, and on SIGINT even when started in the background.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, _raise_interrupt)
    host = os.environ.get("XPSHOP_HOST", "127.0.0.1")
    table_name = os.environ.get("TABLE_NAME") or DEFAULT_TABLE_NAME
    admin_key, generated = _admin_key(None if args.check else KEY_FILE)
    # Signed rank card URLs stay valid across restarts: the key is kept like the admin key.
    os.environ["XPSHOP_CARD_SIGNING_KEY"] = _kept_secret(
        "XPSHOP_CARD_SIGNING_KEY", None if args.check else CARD_KEY_FILE
    )[0]
    if args.check:
        http_port, ddb_port, data_dir = 0, None, None  # never collides with a running dev server
    else:
        http_port = _int_env("XPSHOP_PORT", DEFAULT_HTTP_PORT)
        ddb_port = _pick_ddb_port()
        data_dir = Path(os.environ.get("XPSHOP_DATA_DIR") or REPO_ROOT / ".local" / "ddb")
    try:
        stack = start_stack(
            REPO_ROOT,
            http_port=http_port,
            ddb_port=ddb_port,
            data_dir=data_dir,
            table_name=table_name,
            admin_key=admin_key,
            host=host,
        )
    except DynamoDBLocalError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"error: cannot serve on {host}:{http_port}: {error} (set XPSHOP_PORT)", file=sys.stderr)
        return 1
    with stack:
        if args.check:
            return check(stack)
        print(_banner(stack, generated, data_dir), flush=True)
        try:
            while stack.thread.is_alive():
                stack.thread.join(timeout=1.0)
        except KeyboardInterrupt:
            print("\nstopping...", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
