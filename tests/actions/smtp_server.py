"""A real SMTP server for tests/actions.rs (aiosmtpd, Debian package python3-aiosmtpd).

Usage: smtp_server.py PORT DIR. Listens on 127.0.0.1:PORT without TLS or authentication,
prints "ready" once it accepts connections, and writes each message it receives to DIR as
NNNN.json ({from, to, subject, message_id, idempotency_key, text, html}, parts decoded), via a
temporary file and a rename so readers never see half a message. Runs until its stdin closes
(the test process ended) or it is killed.
"""
import email
import email.policy
import json
import os
import sys

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, out):
        self.out = out
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        content = envelope.content
        if isinstance(content, str):
            content = content.encode()
        msg = email.message_from_bytes(content, policy=email.policy.default)
        parts = {}
        for part in msg.walk():
            if part.get_content_type() in ("text/plain", "text/html"):
                parts[part.get_content_type()] = part.get_content()
        record = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "subject": str(msg["subject"]),
            "message_id": str(msg["message-id"]),
            "idempotency_key": str(msg["x-driftd-idempotency-key"]),
            "content_type": msg.get_content_type(),
            "text": parts.get("text/plain"),
            "html": parts.get("text/html"),
        }
        tmp = os.path.join(self.out, f".{self.count:04d}.tmp")
        with open(tmp, "w") as f:
            json.dump(record, f)
        os.rename(tmp, os.path.join(self.out, f"{self.count:04d}.json"))
        return "250 Message accepted for delivery"


def main():
    port, out = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Handler(out), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
