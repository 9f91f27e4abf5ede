"""A throwaway Dovecot IMAP server on 127.0.0.1 for casemaild's end-to-end tests.

Everything lives in one temporary directory: config, passwd file, maildirs, sockets, log.
As root, Dovecot's login process runs as `dovenull` and mail as `nobody` (Dovecot refuses
root for both); as another user, everything runs as that user.
"""
import grp
import http.server
import imaplib
import json
import os
import pwd
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
DOVEADM = shutil.which("doveadm") or "/usr/bin/doveadm"


class Introspection:
    """An OAuth2 token introspection endpoint (RFC 7662) for Dovecot's oauth2 passdb."""

    def __init__(self, tokens):
        # Kept by reference: a test's token endpoint adds the tokens it issues.
        self.tokens = tokens if isinstance(tokens, dict) else dict(tokens)
        tokens = self.tokens
        self.requests = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(handler):
                body = handler.rfile.read(int(handler.headers.get("Content-Length", 0))).decode()
                token = urllib.parse.parse_qs(body).get("token", [""])[0]
                self.requests.append(token)
                user = tokens.get(token)
                out = json.dumps({"active": True, "username": user} if user else {"active": False}).encode()
                handler.send_response(200)
                handler.send_header("Content-Type", "application/json")
                handler.send_header("Content-Length", str(len(out)))
                handler.end_headers()
                handler.wfile.write(out)

            def log_message(handler, *args):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/introspect"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dovecot:
    def __init__(self, root, users, tls=None, oauth2_tokens=None, extra_conf=""):
        """users: {name: password}; tls: (cert, key) PEM files to offer STARTTLS (and require it);
        oauth2_tokens: {bearer token: user} accepted by XOAUTH2/OAUTHBEARER, checked by Dovecot
        against an OAuth2 introspection endpoint this harness serves on 127.0.0.1; extra_conf:
        more dovecot.conf lines (such as imap_capability, to play an older server)."""
        self.root = os.path.join(root, "dovecot")
        self.users = dict(users)
        self.port = free_port()
        self.proc = None
        os.makedirs(self.root)
        for d in ("run", "state", "home"):
            os.makedirs(os.path.join(self.root, d))
        if os.geteuid() == 0:
            mail = pwd.getpwnam("nobody")
            login_user, internal_user, internal_group = "dovenull", "dovecot", "dovecot"
            # every directory up to the homes must be traversable by the mail user
            path = self.root
            while path not in ("/", ""):
                os.chmod(path, os.stat(path).st_mode | 0o055)
                path = os.path.dirname(path)
            os.chown(os.path.join(self.root, "home"), mail.pw_uid, mail.pw_gid)
        else:
            mail = pwd.getpwuid(os.geteuid())
            login_user = internal_user = mail.pw_name
            internal_group = grp.getgrgid(mail.pw_gid).gr_name
        self.mail_uid, self.mail_gid = mail.pw_uid, mail.pw_gid
        with open(os.path.join(self.root, "passwd"), "w") as f:
            for name, password in self.users.items():
                f.write(f"{name}:{{PLAIN}}{password}\n")
        oauth2_passdb = ""
        self.introspection = None
        if oauth2_tokens is not None:
            self.introspection = Introspection(oauth2_tokens)
            with open(os.path.join(self.root, "oauth2.conf.ext"), "w") as f:
                f.write(f"introspection_mode = post\nintrospection_url = {self.introspection.url}\n"
                        "username_attribute = username\nactive_attribute = active\nactive_value = true\n")
            oauth2_passdb = (f"passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n"
                             f"  args = {self.root}/oauth2.conf.ext\n}}\n")
        self.conf = os.path.join(self.root, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{f"ssl = required{chr(10)}ssl_cert = <{tls[0]}{chr(10)}ssl_key = <{tls[1]}" if tls else "ssl = no"}
disable_plaintext_auth = {"yes" if tls else "no"}
auth_mechanisms = plain login{" xoauth2 oauthbearer" if oauth2_tokens is not None else ""}
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
first_valid_uid = {self.mail_uid}
first_valid_gid = {self.mail_gid}
mail_location = maildir:~/Maildir
{oauth2_passdb}passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/passwd
}}
userdb {{
  driver = static
  args = uid={self.mail_uid} gid={self.mail_gid} home={self.root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
namespace inbox {{
  inbox = yes
}}
{extra_conf}
""")

    def start(self):
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", self.conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    if s.recv(100).startswith(b"* OK"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("dovecot did not start: " + self.log())

    def stop(self):
        if self.introspection:
            self.introspection.stop()
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log(self, tail=3000):
        try:
            with open(os.path.join(self.root, "dovecot.log")) as f:
                return f.read()[-tail:] if tail else f.read()
        except OSError:
            return "(no log)"

    @property
    def url(self):
        return f"imap://127.0.0.1:{self.port}"

    def connect(self, user):
        m = imaplib.IMAP4("127.0.0.1", self.port)
        m.login(user, self.users[user])
        return m

    def append(self, user, messages, folder="INBOX"):
        m = self.connect(user)
        try:
            for raw in messages:
                typ, data = m.append(folder, None, None, raw if isinstance(raw, bytes) else raw.encode())
                assert typ == "OK", data
        finally:
            m.logout()

    def deliver(self, user, messages):
        """Drops messages straight into the user's INBOX maildir (new/), as a local delivery
        agent would: much faster than APPEND for thousands of messages."""
        base = os.path.join(self.root, "home", user, "Maildir")
        for sub in ("", "cur", "new", "tmp"):
            path = os.path.join(base, sub)
            if not os.path.isdir(path):
                os.makedirs(path)
                os.chown(path, self.mail_uid, self.mail_gid)
        stamp = int(time.time())
        for i, raw in enumerate(messages):
            name = f"{stamp}.M{i}P{os.getpid()}.casemail-test"
            tmp = os.path.join(base, "tmp", name)
            with open(tmp, "wb") as f:
                f.write(raw if isinstance(raw, bytes) else raw.encode())
            os.chown(tmp, self.mail_uid, self.mail_gid)
            os.rename(tmp, os.path.join(base, "new", name))

    def count(self, user, folder="INBOX"):
        """Messages in folder, or None when it does not exist."""
        m = self.connect(user)
        try:
            typ, data = m.status(folder, "(MESSAGES)")
            if typ != "OK":
                return None
            return int(data[0].decode().split("MESSAGES ")[1].rstrip(")"))
        finally:
            m.logout()

    def flagged(self, user, flag, folder="INBOX"):
        m = self.connect(user)
        try:
            m.select(folder, readonly=True)
            typ, data = m.uid("SEARCH", "KEYWORD" if not flag.startswith("\\") else flag[1:].upper(),
                              *( [flag] if not flag.startswith("\\") else []))
            return len(data[0].split())
        finally:
            m.logout()

    def set_uidvalidity(self, user, value, folder="INBOX"):
        subprocess.run([DOVEADM, "-c", self.conf, "mailbox", "update", "-u", user, "--uid-validity", str(value), folder],
                       check=True, capture_output=True)


def make_certificate(directory, name="server"):
    """A throwaway self-signed certificate for 127.0.0.1 (subjectAltName IP), as (cert, key)."""
    cert, key = os.path.join(directory, name + ".crt"), os.path.join(directory, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    os.chmod(key, 0o644)
    return cert, key
