"""A smarthost for the relay test, run in the internet container: SMTP
submission on port 587 that takes mail only after STARTTLS and AUTH (PLAIN
or LOGIN) with the one login given, and appends each message it takes, with
the login and whether TLS was on, as a JSON line to the output file.

    python3 - USER PASSWORD OUTPUT < smarthost.py
"""

import json
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD, OUTPUT = sys.argv[1].encode(), sys.argv[2].encode(), sys.argv[3]


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (USER, PASSWORD)
    return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)


class Keep:
    async def handle_DATA(self, server, session, envelope):
        with open(OUTPUT, "a") as out:
            out.write(json.dumps({
                "login": session.auth_data.decode() if session.authenticated else None,
                "tls": session.ssl is not None,
                "from": envelope.mail_from,
                "to": envelope.rcpt_tos,
                "data": envelope.content.decode("utf-8", "replace"),
            }) + "\n")
        return "250 OK: kept"


# Pebble's own HTTPS certificate (its name is pebble, the alias the relay uses).
tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
tls.load_cert_chain("/etc/pebble/api-cert.pem", "/etc/pebble/api-key.pem")
controller = Controller(Keep(), hostname="0.0.0.0", port=587, tls_context=tls, require_starttls=True,
                        authenticator=authenticate, auth_required=True, auth_require_tls=True)
controller.start()
while True:
    time.sleep(3600)
