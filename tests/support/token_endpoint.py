"""An OAuth2 token endpoint (RFC 6749) on 127.0.0.1 standing in for Microsoft Entra in tests:
the client credentials grant and the refresh token grant (rotating the refresh token at each
use), short-lived tokens, Entra's error format. Each token it issues is added to `accepted`
(the dict Dovecot's introspection endpoint checks) and appended to `tokens_file` (the list the
SMTP sink accepts)."""
import http.server
import json
import threading
import urllib.parse


class TokenEndpoint:
    def __init__(self, accepted, tokens_file, lifetime=3):
        self.accepted = accepted          # {token: user}
        self.tokens_file = tokens_file
        self.lifetime = lifetime
        self.clients = {}                 # client_id -> (secret, user) for client credentials
        self.refresh = {}                 # client_id -> [current refresh token, user]
        self.requests = []                # (grant_type, client_id, outcome)
        self.count = 0
        endpoint = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(handler):
                body = handler.rfile.read(int(handler.headers.get("Content-Length", 0))).decode()
                form = {k: v[0] for k, v in urllib.parse.parse_qs(body).items()}
                status, answer = endpoint.answer(handler.path, form)
                out = json.dumps(answer).encode()
                handler.send_response(status)
                handler.send_header("Content-Type", "application/json")
                handler.send_header("Content-Length", str(len(out)))
                handler.end_headers()
                handler.wfile.write(out)

            def log_message(handler, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tenant/oauth2/v2.0/token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def issue(self, user):
        self.count += 1
        token = f"access-{self.count}"
        self.accepted[token] = user
        with open(self.tokens_file, "a") as f:
            f.write(token + "\n")
        return token

    def answer(self, path, form):
        grant, client = form.get("grant_type"), form.get("client_id", "")
        if not path.endswith("/oauth2/v2.0/token"):
            return 404, {"error": "not_found"}
        if grant == "client_credentials":
            secret, user = self.clients.get(client, (None, None))
            if secret is None or form.get("client_secret") != secret:
                self.requests.append((grant, client, "invalid_client"))
                return 401, {"error": "invalid_client",
                             "error_description": "AADSTS7000215: Invalid client secret provided."}
            self.requests.append((grant, client, "ok"))
            return 200, {"token_type": "Bearer", "expires_in": self.lifetime, "access_token": self.issue(user)}
        if grant == "refresh_token":
            current = self.refresh.get(client)
            if not current or form.get("refresh_token") != current[0]:
                self.requests.append((grant, client, "invalid_grant"))
                return 400, {"error": "invalid_grant", "error_description": "AADSTS70000: refresh token is invalid."}
            current[0] = f"refresh-{self.count + 1}"
            self.requests.append((grant, client, "ok"))
            return 200, {"token_type": "Bearer", "expires_in": self.lifetime, "access_token": self.issue(current[1]),
                         "refresh_token": current[0]}
        return 400, {"error": "unsupported_grant_type"}

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
