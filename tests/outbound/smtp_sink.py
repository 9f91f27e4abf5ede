#!/usr/bin/python3
"""A real SMTP server (aiosmtpd) standing in for the city's upstream smarthost in tests.

Usage: smtp_sink.py PORT DIR [CERT KEY]
Every accepted message is written to DIR/NNNN.json: {"mail_from", "rcpt_tos", "data"}.
With CERT and KEY the sink offers STARTTLS and requires it before MAIL.
If DIR/reject exists, its content (e.g. "550 5.1.1 mailbox unavailable") answers every RCPT.
Runs with Debian's python3 (python3-aiosmtpd).
"""
import asyncio
import json
import os
import ssl
import sys

from aiosmtpd.controller import Controller


class Recorder:
    def __init__(self, directory):
        self.directory = directory
        self.count = len([f for f in os.listdir(directory) if f.endswith(".json")])

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reject = os.path.join(self.directory, "reject")
        if os.path.exists(reject):
            with open(reject) as f:
                return f.read().strip()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        tmp = os.path.join(self.directory, f"{self.count:04d}.tmp")
        with open(tmp, "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "data": envelope.content.decode("utf-8", "replace")}, f)
        os.rename(tmp, os.path.join(self.directory, f"{self.count:04d}.json"))
        return "250 2.0.0 queued by sink"


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    os.makedirs(directory, exist_ok=True)
    tls = {}
    if len(sys.argv) > 4:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(sys.argv[3], sys.argv[4])
        tls = {"tls_context": context, "require_starttls": True}
    controller = Controller(Recorder(directory), hostname="127.0.0.1", port=port, **tls)
    controller.start()
    with open(os.path.join(directory, "ready"), "w") as f:
        f.write("ok")
    try:
        asyncio.get_event_loop().run_forever()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
