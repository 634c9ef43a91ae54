"""The message queue locally: an SQS server (moto) and a poller that does what Lambda's event source
mapping does: receive up to 10 messages, call the consumer with an SQS event, delete what succeeded."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import boto3

from local import lambdas
from local.template import FunctionSpec

logger = logging.getLogger("local.queue")
QUEUE_NAME = "xpshop-messages.fifo"
CONSUMER = "XpConsumerFunction"


class LocalQueue:
    def __init__(self, repo_root: Path, consumer: FunctionSpec | None) -> None:
        self.repo_root = repo_root
        self.consumer = consumer
        self._server: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.endpoint = ""
        self.url = ""

    def start(self) -> LocalQueue:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self.url = self._client().create_queue(
            QueueName=QUEUE_NAME, Attributes={"FifoQueue": "true", "VisibilityTimeout": "30"}
        )["QueueUrl"]
        if self.consumer is not None:
            self._thread = threading.Thread(target=self._poll, name="local-queue-poller", daemon=True)
            self._thread.start()
        return self

    def _client(self) -> Any:
        return boto3.client(
            "sqs",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def _poll(self) -> None:
        client = self._client()
        while not self._stop.is_set():
            try:
                received = client.receive_message(
                    QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=1, AttributeNames=["All"]
                ).get("Messages", [])
                if received:
                    self._deliver(client, received)
            except Exception:  # a broken batch must not stop the poller; the message becomes visible again
                logger.exception("local queue delivery failed")
                time.sleep(1)

    def _deliver(self, client: Any, received: list[dict[str, Any]]) -> None:
        assert self.consumer is not None
        records = [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{QUEUE_NAME}",
                "awsRegion": "us-east-1",
            }
            for m in received
        ]
        result = lambdas.invoke(self.repo_root, self.consumer, {"Records": records})
        failed = {f["itemIdentifier"] for f in (result or {}).get("batchItemFailures", [])}
        done = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
            for i, m in enumerate(received)
            if m["MessageId"] not in failed
        ]
        if done:
            client.delete_message_batch(QueueUrl=self.url, Entries=done)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._server is not None:
            self._server.stop()
