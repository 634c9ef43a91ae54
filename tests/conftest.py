"""Test session setup: the environment every handler sees, and the two storage back ends.

unit tests run on moto; integration tests run on DynamoDB Local (the real engine), started once per
session with one table built from template.yaml; e2e tests start the local server as `make dev` does.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import settings

# No per-example deadline: a timed assertion in disguise, which fails on a loaded CI machine (bench/ measures).
settings.register_profile("xpshop", deadline=None)
settings.load_profile("xpshop")

ADMIN_KEY = "test-admin-key"
CARD_SIGNING_KEY = "test-card-signing-key"
TABLE_NAME = "xpshop-test"

# Handlers read these at import or call time; set before any test module imports them.
os.environ.update(
    TABLE_NAME=TABLE_NAME,
    XPSHOP_ADMIN_KEY=ADMIN_KEY,
    XPSHOP_CARD_SIGNING_KEY=CARD_SIGNING_KEY,
    ADMIN_KEY_PARAM="",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_REGION="us-east-1",
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    POWERTOOLS_TRACE_DISABLED="true",
    POWERTOOLS_SERVICE_NAME="xpshop",
    POWERTOOLS_LOG_LEVEL="WARNING",
    POWERTOOLS_METRICS_NAMESPACE="xpshop",
    # Every test calls from 127.0.0.1: the per-address limit of anonymous callers would count the whole
    # session's public requests together (and add its write to the reads public pages are measured at).
    # Off here; the tests of that limit set their own (tests/integration/test_api_keys.py).
    RATE_LIMIT_ANONYMOUS_PER_MINUTE="0",
)
os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)


@contextmanager
def _moto_table() -> Iterator[str]:
    import boto3
    from moto import mock_aws

    from local.template import create_table, load_template
    from tests.support.storage import reset_storage_caches

    with pytest.MonkeyPatch.context() as mp, mock_aws():
        mp.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
        create_table(boto3.client("dynamodb"), load_template(), TABLE_NAME)
        record_rank_layout(boto3.client("dynamodb"))
        reset_storage_caches()
        yield TABLE_NAME
    reset_storage_caches()


@pytest.fixture
def moto_table() -> Iterator[str]:
    """A fresh table on moto, created from template.yaml."""
    with _moto_table() as name:
        yield name


@pytest.fixture(scope="module")
def moto_table_of_module() -> Iterator[str]:
    """One table on moto for a module whose tests never write, or never read what another wrote (validation
    tables): creating a table from the template costs more than most such tests."""
    with _moto_table() as name:
        yield name


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[str]:
    """DynamoDB Local for the whole session (in memory) with the table from template.yaml."""
    from local.ddb import DynamoDBLocal
    from local.template import create_table, load_template

    with DynamoDBLocal() as ddb:
        create_table(ddb.client(), load_template(), TABLE_NAME)
        record_rank_layout(ddb.client())
        yield ddb.endpoint


def record_rank_layout(client: Any, table: str = TABLE_NAME) -> None:
    """The table as a deployment's first recalculation run leaves it: the rank counter layout recorded, so
    that a test's recalculation is not a whole-table backfill (tests/integration/test_ranking.py tests that)."""
    from xpshop.store import keys

    item = {k: {"S": v} for k, v in keys.rank_layout_record().items()}
    client.put_item(TableName=table, Item={**item, "layout": {"N": str(keys.RANK_LAYOUT)}})


@pytest.fixture
def ddb_local(dynamodb_local: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the store at DynamoDB Local for one test."""
    from tests.support.storage import reset_storage_caches

    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_local)
    reset_storage_caches()
    yield dynamodb_local
    reset_storage_caches()


@pytest.fixture
def own_table(dynamodb_local: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A table of this test's own on DynamoDB Local, for work over a whole table (a global recalculation
    visits every guild: on the session's table that would be every guild every earlier test made)."""
    import uuid

    import boto3

    from local.template import create_table, load_template
    from tests.support.storage import reset_storage_caches

    name = f"{TABLE_NAME}-{uuid.uuid4().hex[:8]}"
    client = boto3.client("dynamodb", endpoint_url=dynamodb_local)
    create_table(client, load_template(), name)
    record_rank_layout(client, name)
    monkeypatch.setenv("TABLE_NAME", name)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_local)
    reset_storage_caches()
    yield name
    reset_storage_caches()
    client.delete_table(TableName=name)


@pytest.fixture
def api_own_table(own_table: str, dynamodb_local: str):  # -> ApiClient
    """The in-process API over a table of the test's own (`own_table`), rank counters kept from its stream."""
    from tests.support.client import ApiClient

    return ApiClient(ADMIN_KEY, before_read=_rank_poller(dynamodb_local, own_table).drain)


@pytest.fixture
def api_moto(moto_table: str):  # -> ApiClient
    """The in-process API over moto (rank counters kept from moto's stream before each read)."""
    from tests.support.client import ApiClient

    return ApiClient(ADMIN_KEY, before_read=_rank_poller(None).drain)


@pytest.fixture(scope="module")
def api_moto_of_module(moto_table_of_module: str):  # -> ApiClient
    """The in-process API over the module's moto table (`moto_table_of_module`)."""
    from tests.support.client import ApiClient

    return ApiClient(ADMIN_KEY, before_read=_rank_poller(None).drain)


@pytest.fixture(scope="module")
def guild_moto_of_module(api_moto_of_module) -> str:
    """A guild registered once for the module on its moto table."""
    from tests.support.storage import new_guild_id

    guild_id = new_guild_id()
    assert api_moto_of_module.put(f"/api/xp/guilds/{guild_id}").status == 201
    return guild_id


@pytest.fixture
def rank_stream(ddb_local: str):  # -> StreamPoller
    """The table's stream from now on, delivered to the rank index function on `drain()`."""
    return _rank_poller(ddb_local)


@pytest.fixture
def api(rank_stream):  # -> ApiClient
    """The in-process API over DynamoDB Local; GETs first deliver the stream to the rank index. A
    recalculation pending for every guild, left by an earlier test of the session's table (a global curve
    change, a layout change), is cleared first: while it stands every guild's pages read all the bands."""
    from tests.support.client import ApiClient
    from xpshop.store import keys
    from xpshop.store.table import table

    table().delete_item(Key=keys.recalc_marker(None))
    return ApiClient(ADMIN_KEY, before_read=rank_stream.drain)


def _rank_poller(endpoint: str | None, table: str = TABLE_NAME):  # -> StreamPoller
    from local import REPO_ROOT
    from local.stream import RANK_INDEX, poller_for
    from local.template import load_template

    poller = poller_for(RANK_INDEX, load_template(), endpoint, table, REPO_ROOT)
    poller.start_from_now()  # the session's table holds other tests' history: this test's records only
    return poller


@pytest.fixture
def guild(api):  # -> str
    """A freshly registered guild on DynamoDB Local."""
    from tests.support.storage import new_guild_id

    guild_id = new_guild_id()
    assert api.put(f"/api/xp/guilds/{guild_id}").status == 201
    return guild_id


@pytest.fixture(scope="session")
def parallel(dynamodb_local: str):  # -> ParallelClient
    """Worker processes sending real concurrent requests to DynamoDB Local (one pool per session)."""
    from tests.support.parallel import ParallelClient

    env = {**os.environ, "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_local}
    client = ParallelClient(env, ADMIN_KEY)
    yield client
    client.close()


@pytest.fixture(scope="session")
def sqs_server() -> Iterator[str]:
    """A local SQS (moto server) for the ingestion endpoint; yields its endpoint."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def import_queue(sqs_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh import queue, and imports of more than 300 rows become jobs of 200-row chunks."""
    import uuid

    import boto3

    from xpshop import message_queue
    from xpshop.service import imports

    url = boto3.client("sqs", endpoint_url=sqs_server).create_queue(QueueName=f"imp-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", sqs_server)
    monkeypatch.setenv("IMPORT_QUEUE_URL", url)
    monkeypatch.setenv("IMPORT_SYNC_MAX_ROWS", "300")
    monkeypatch.setattr(imports, "CHUNK_ROWS", 200)
    message_queue.reset()
    yield url
    message_queue.reset()


@pytest.fixture
def messages_queue(sqs_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh FIFO queue the ingestion endpoint sends to; yields its URL."""
    import uuid

    import boto3

    from xpshop import message_queue

    client = boto3.client("sqs", endpoint_url=sqs_server)
    url = client.create_queue(QueueName=f"m-{uuid.uuid4().hex[:8]}.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", sqs_server)
    monkeypatch.setenv("MESSAGES_QUEUE_URL", url)
    message_queue.reset()
    yield url
    message_queue.reset()


@pytest.fixture
def discord_app(monkeypatch: pytest.MonkeyPatch):  # -> DiscordApp
    """The Discord side for one test: a signing key pair (public half configured), a fake Discord REST API
    with a bot token, and the interactions queue on the local SQS when a test asks for it."""
    from tests.support.discord import Signer
    from tests.support.fake_discord import FakeDiscord

    signer = Signer()
    with FakeDiscord(token="test-bot-token") as fake:
        monkeypatch.setenv("DISCORD_PUBLIC_KEY", signer.public_hex)
        monkeypatch.setenv("DISCORD_BOT_TOKEN", "test-bot-token")
        monkeypatch.setenv("DISCORD_API_BASE_URL", fake.base_url)
        yield DiscordApp(signer, fake)


class DiscordApp:
    def __init__(self, signer, fake) -> None:  # type: ignore[no-untyped-def]
        self.signer = signer
        self.fake = fake


@pytest.fixture
def interactions_queue(sqs_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh standard queue for deferred interactions; yields its URL."""
    import uuid

    import boto3

    from xpshop import message_queue

    client = boto3.client("sqs", endpoint_url=sqs_server)
    url = client.create_queue(QueueName=f"i-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", sqs_server)
    monkeypatch.setenv("INTERACTIONS_QUEUE_URL", url)
    message_queue.reset()
    yield url
    message_queue.reset()


@pytest.fixture
def table_stream(ddb_local: str):  # -> StreamPoller
    """The table's stream from now on, delivered to the effects function on `drain()` (as Lambda would)."""
    from local import REPO_ROOT
    from local.stream import EFFECTS, poller_for
    from local.template import load_template

    return poller_for(EFFECTS, load_template(), ddb_local, TABLE_NAME, REPO_ROOT)


# ---------------------------------------------------------------- IAM: what each function really uses


def pytest_configure(config: pytest.Config) -> None:
    from tests.support import iam_usage

    iam_usage.install()
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        # xdist workers (`make test` runs two) inherit this and leave what they observed there
        import tempfile

        os.environ["XPSHOP_IAM_USAGE_DIR"] = tempfile.mkdtemp(prefix="xpshop-iam-")


# ---------------------------------------------------------------- markers by folder and by what a test needs

TESTS = os.path.dirname(os.path.abspath(__file__))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`e2e`: everything in tests/e2e; `integration`: everything in tests/integration, and any test anywhere
    that needs DynamoDB Local."""
    for item in items:
        folder = os.path.relpath(str(item.path), TESTS).split(os.sep)[0]
        if folder == "e2e":
            item.add_marker(pytest.mark.e2e)
        elif folder == "integration" or "dynamodb_local" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: only called when tests run on workers (-n)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """A module's tests stay on one worker (its module fixtures are built once), and every e2e module on the
    same one (the session's one local server, tests/e2e/conftest.py)."""
    from xdist.scheduler import LoadScopeScheduling

    class ModulesWithE2eTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return "tests/e2e" if module.startswith("tests/e2e/") else module

    return ModulesWithE2eTogether(config, log)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when a function used an AWS action (or, where its policy has a dynamodb:LeadingKeys
    condition, a partition) that tests/security/iam_policies.json does not grant it. Under xdist each
    worker writes what it saw and the controller, which finishes last, checks the union."""
    import glob
    import json

    from tests.support import iam_usage

    observed = iam_usage.snapshot()
    shared = os.environ.get("XPSHOP_IAM_USAGE_DIR", "")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        with open(os.path.join(shared, f"{worker}.json"), "w", encoding="utf-8") as f:
            json.dump({fn: {a: sorted(p) for a, p in acts.items()} for fn, acts in observed.items()}, f)
        return
    for path in glob.glob(os.path.join(shared, "*.json")) if shared else ():
        with open(path, encoding="utf-8") as f:
            for fn, acts in json.load(f).items():
                for action, partitions in acts.items():
                    observed.setdefault(fn, {}).setdefault(action, set()).update(partitions)
    out = os.environ.get("XPSHOP_IAM_USAGE_OUT")
    if out:
        with open(out, "w", encoding="utf-8") as f:
            json.dump({fn: {a: sorted(p) for a, p in acts.items()} for fn, acts in observed.items()}, f, indent=1)
    from tests.security.iam_policies import violations

    problems = violations(observed)
    if problems:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = ["IAM: functions used actions their policy does not grant (tests/security/iam_policies.json):"]
        lines += [f"  {p}" for p in problems]
        if reporter is not None:
            reporter.write_line("\n".join(lines), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
