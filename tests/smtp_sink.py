"""A real SMTP server for the notification tests (aiosmtpd): every accepted message is written
as one JSON file into OUT_DIR, decoded (subject and body in UTF-8, the X-Ecl-* headers), so
the Rust tests read back what arrived.

  python3 tests/smtp_sink.py PORT OUT_DIR

Recipients whose local part starts with `refuse` are refused for good (550); those starting
with `defer` are deferred (451) the first two times they are offered. Prints `READY` once
listening. SMTP_SINK_DELAY_MS slows every message down (a busy server).
"""

import asyncio
import json
import os
import sys
import uuid
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out, delay):
        self.out = out
        self.delay = delay
        self.deferred = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("refuse"):
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        if local.startswith("defer"):
            n = self.deferred.get(address, 0)
            if n < 2:
                self.deferred[address] = n + 1
                return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        msg = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        body = msg.get_body(preferencelist=("plain",))
        record = {
            "from": envelope.mail_from,
            "to": list(envelope.rcpt_tos),
            "subject": str(msg.get("Subject", "")),
            "body": body.get_content() if body is not None else "",
            "notice": str(msg.get("X-Ecl-Notice", "")),
            "delivery": str(msg.get("X-Ecl-Delivery", "")),
            "category": str(msg.get("X-Ecl-Category", "")),
            "copy": str(msg.get("X-Ecl-Copy", "")),
        }
        name = uuid.uuid4().hex
        tmp = os.path.join(self.out, "." + name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        # Atomic: a reader never sees half a message.
        os.rename(tmp, os.path.join(self.out, name + ".json"))
        return "250 Message accepted for delivery"


def main():
    port, out = int(sys.argv[1]), sys.argv[2]
    os.makedirs(out, exist_ok=True)
    delay = float(os.environ.get("SMTP_SINK_DELAY_MS", "0")) / 1000
    controller = Controller(Sink(out, delay), hostname="127.0.0.1", port=port)
    controller.start()
    print("READY", flush=True)
    try:
        asyncio.run(asyncio.Event().wait())
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
