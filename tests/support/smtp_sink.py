#!/usr/bin/python3
"""A real SMTP server (aiosmtpd) standing in for the city's upstream smarthost in tests.

Usage: smtp_sink.py PORT DIR [--tls CERT KEY] [--xoauth2 TOKEN]
Every accepted message is written to DIR/NNNN.json: {"mail_from", "rcpt_tos", "data", "auth"}.
--tls: STARTTLS offered and required before MAIL. --xoauth2: AUTH XOAUTH2 with that bearer
token required before MAIL (the login Microsoft 365 wants; "@FILE": any token listed in FILE,
read at each attempt, as a token endpoint issues them); every attempt is appended to
DIR/auth.log. If DIR/reject exists, its content (e.g. "550 5.1.1 mailbox unavailable")
answers every RCPT. Runs with Debian's python3 (python3-aiosmtpd).
"""
import argparse
import asyncio
import base64
import json
import os
import ssl

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


class Recorder:
    def __init__(self, directory, token):
        self.directory = directory
        self.token = token
        self.count = len([f for f in os.listdir(directory) if f.endswith(".json")])

    async def auth_XOAUTH2(self, server, args):
        # RFC-less but documented by Google/Microsoft: base64("user=U\x01auth=Bearer T\x01\x01")
        if len(args) > 1:  # initial response, base64
            response = base64.b64decode(args[1])
        else:  # challenge_auth() returns the client's answer already decoded
            response = await server.challenge_auth("", encode_to_b64=False)
        try:
            fields = dict(f.split("=", 1) for f in bytes(response).decode().split("\x01") if "=" in f)
        except Exception:  # noqa: BLE001
            fields = {}
        valid = {self.token}
        if self.token.startswith("@"):
            try:
                with open(self.token[1:]) as f:
                    valid = set(f.read().split())
            except OSError:
                valid = set()
        ok = fields.get("auth", "").startswith("Bearer ") and fields["auth"][len("Bearer "):] in valid
        with open(os.path.join(self.directory, "auth.log"), "a") as f:
            f.write(f"{fields.get('user')} {'ok' if ok else 'refused'}\n")
        return AuthResult(success=ok, handled=False, auth_data=fields.get("user"))

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
                       "data": envelope.content.decode("utf-8", "replace"),
                       "auth": session.auth_data if session.authenticated else None}, f)
        os.rename(tmp, os.path.join(self.directory, f"{self.count:04d}.json"))
        return "250 2.0.0 queued by sink"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("directory")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--xoauth2", metavar="TOKEN")
    args = parser.parse_args()
    os.makedirs(args.directory, exist_ok=True)
    options = {}
    if args.tls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*args.tls)
        options.update(tls_context=context, require_starttls=True)
    if args.xoauth2:
        options.update(auth_required=True, auth_require_tls=False, auth_exclude_mechanism=["LOGIN", "PLAIN"])
    controller = Controller(Recorder(args.directory, args.xoauth2), hostname="127.0.0.1", port=args.port, **options)
    controller.start()
    with open(os.path.join(args.directory, "ready"), "w") as f:
        f.write("ok")
    try:
        asyncio.get_event_loop().run_forever()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
