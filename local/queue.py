"""The message queue locally: an SQS server (moto) and a poller that does what Lambda's event source
mapping does: receive up to 10 messages, call the consumer with an SQS event, delete what succeeded."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from local import events, lambdas
from local.template import FunctionSpec

logger = logging.getLogger("local.queue")
QUEUE_NAME = "xpshop-messages.fifo"
CONSUMER = "XpConsumerFunction"
# The consumer sends records it can never apply here itself (FIFO, like the template's); nothing drains it:
# look at it with receive_message on the local SQS endpoint.
DEAD_LETTER_QUEUE_NAME = "xpshop-messages-dlq.fifo"
INTERACTIONS_QUEUE_NAME = "xpshop-interactions"
WORKER = "DiscordWorkerFunction"
IMPORT_QUEUE_NAME = "xpshop-imports"
IMPORT_WORKER = "XpImportJobsFunction"


@dataclass(frozen=True)
class QueueSpec:
    """One queue of template.yaml as run locally: its name, attributes, consumer and the variable naming it."""

    name: str
    attributes: dict[str, str]
    consumer: FunctionSpec | None
    env_var: str


def default_queues(specs: dict[str, FunctionSpec]) -> list[QueueSpec]:
    return [
        QueueSpec(
            QUEUE_NAME, {"FifoQueue": "true", "VisibilityTimeout": "30"}, specs.get(CONSUMER), "MESSAGES_QUEUE_URL"
        ),
        QueueSpec(DEAD_LETTER_QUEUE_NAME, {"FifoQueue": "true"}, None, "MESSAGES_DLQ_URL"),
        QueueSpec(INTERACTIONS_QUEUE_NAME, {"VisibilityTimeout": "30"}, specs.get(WORKER), "INTERACTIONS_QUEUE_URL"),
        # background imports: one message per chunk of rows (the worker takes ~1 s a chunk here)
        QueueSpec(IMPORT_QUEUE_NAME, {"VisibilityTimeout": "120"}, specs.get(IMPORT_WORKER), "IMPORT_QUEUE_URL"),
    ]


class LocalQueue:
    """An SQS server (moto) with the project's queues, each drained into its consumer by a poller thread."""

    def __init__(self, repo_root: Path, consumer: FunctionSpec | None, queues: list[QueueSpec] | None = None) -> None:
        self.repo_root = repo_root
        self.queues = queues or [
            QueueSpec(QUEUE_NAME, {"FifoQueue": "true", "VisibilityTimeout": "30"}, consumer, "MESSAGES_QUEUE_URL")
        ]
        self._server: Any = None
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.endpoint = ""
        self.urls: dict[str, str] = {}  # env var -> queue URL

    @property
    def url(self) -> str:
        """The message queue's URL."""
        return self.urls.get("MESSAGES_QUEUE_URL", "")

    def start(self) -> LocalQueue:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        for spec in self.queues:
            url = self._client().create_queue(QueueName=spec.name, Attributes=spec.attributes)["QueueUrl"]
            self.urls[spec.env_var] = url
            if spec.consumer is not None:
                thread = threading.Thread(
                    target=self._poll, args=(spec, url), name=f"local-queue-{spec.name}", daemon=True
                )
                thread.start()
                self._threads.append(thread)
        return self

    def _client(self) -> Any:
        return boto3.client(
            "sqs",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def _poll(self, spec: QueueSpec, url: str) -> None:
        client = self._client()
        while not self._stop.is_set():
            try:
                received = client.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["All"]
                ).get("Messages", [])
                if received:
                    self._deliver(client, spec, url, received)
            except Exception:  # a broken batch must not stop the poller; the message becomes visible again
                logger.exception("local queue delivery failed")
                time.sleep(1)

    def _deliver(self, client: Any, spec: QueueSpec, url: str, received: list[dict[str, Any]]) -> None:
        assert spec.consumer is not None
        records = [events.received_record(m, queue=spec.name) for m in received]
        result = lambdas.invoke(self.repo_root, spec.consumer, events.records_event(records))
        failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
        done = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
            for i, m in enumerate(received)
            if m["MessageId"] not in failed
        ]
        if done:
            client.delete_message_batch(QueueUrl=url, Entries=done)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        if self._server is not None:
            self._server.stop()
