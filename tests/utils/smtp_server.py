"""A tiny real SMTP server on loopback for the mail tests: it speaks enough of RFC 5321 for
Python's smtplib (EHLO, STARTTLS, AUTH PLAIN/LOGIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT) and keeps
what it received. With a certificate it offers STARTTLS; `make_certificate` makes a self-signed
one for "localhost" that a client trusts through SSL_CERT_FILE.
"""

from __future__ import annotations

import base64
import datetime
import socketserver
import ssl
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: Message
    tls: bool  # sent inside a STARTTLS session
    login: tuple[str, str] | None  # the AUTH credentials the client gave


@dataclass
class Mailbox:
    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Session(socketserver.StreamRequestHandler):
    server: _Server

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def read(self) -> str:
        return self.rfile.readline(65536).decode("utf-8", "replace").rstrip("\r\n")

    def handle(self) -> None:
        self.tls, self.login, self.sender, self.recipients = False, None, "", []
        self.reply("220 localhost test SMTP")
        while line := self.read():
            verb, _, argument = line.partition(" ")
            if not self.command(verb.upper(), argument):
                return

    def command(self, verb: str, argument: str) -> bool:
        if verb in ("EHLO", "HELO"):
            offers = ["250-localhost", "250-AUTH PLAIN LOGIN"]
            if self.server.context is not None and not self.tls:
                offers.append("250-STARTTLS")
            for offer in [*offers, "250 8BITMIME"]:
                self.reply(offer)
        elif verb == "STARTTLS" and self.server.context is not None and not self.tls:
            self.reply("220 go ahead")
            self.connection = self.server.context.wrap_socket(self.connection, server_side=True)
            self.rfile, self.wfile = self.connection.makefile("rb"), self.connection.makefile("wb")
            self.tls = True
        elif verb == "AUTH":
            self.authenticate(argument)
        elif verb == "MAIL":
            self.sender, self.recipients = argument.partition(":")[2].strip("<> "), []
            self.reply("250 ok")
        elif verb == "RCPT":
            self.recipients.append(argument.partition(":")[2].strip("<> "))
            self.reply("250 ok")
        elif verb == "DATA":
            self.data()
        elif verb in ("RSET", "NOOP"):
            self.reply("250 ok")
        elif verb == "QUIT":
            self.reply("221 bye")
            return False
        else:
            self.reply("502 not implemented")
        return True

    def authenticate(self, argument: str) -> None:
        mechanism, _, initial = argument.partition(" ")
        if mechanism.upper() == "PLAIN":
            _, user, password = base64.b64decode(initial).decode().split("\0")
        else:  # LOGIN: the user and the password, each asked for
            self.reply("334 VXNlcm5hbWU6")
            user = base64.b64decode(self.read()).decode()
            self.reply("334 UGFzc3dvcmQ6")
            password = base64.b64decode(self.read()).decode()
        if (user, password) != self.server.credentials:
            self.reply("535 authentication failed")
            return
        self.login = (user, password)
        self.reply("235 ok")

    def data(self) -> None:
        self.reply("354 end with .")
        lines = []
        while (line := self.rfile.readline(65536)) not in (b".\r\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)
        received = Received(
            self.sender, self.recipients, message_from_bytes(b"".join(lines)), self.tls, self.login
        )
        with self.server.mailbox.lock:
            self.server.mailbox.messages.append(received)
        self.reply("250 queued")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, context: ssl.SSLContext | None, credentials: tuple[str, str]):
        super().__init__(("127.0.0.1", 0), _Session)
        self.context, self.credentials, self.mailbox = context, credentials, Mailbox()


class SmtpServer:
    """`with SmtpServer() as smtp:` serving on `smtp.port`; what arrived in `smtp.messages`."""

    def __init__(self, certificate: tuple[Path, Path] | None = None, credentials=("", "")):
        context = None
        if certificate is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*certificate)
        self._server = _Server(context, credentials)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def messages(self) -> list[Received]:
        with self._server.mailbox.lock:
            return list(self._server.mailbox.messages)

    def __enter__(self) -> SmtpServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._server.shutdown()
        self._server.server_close()


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost (cert file, key file); trust it with
    SSL_CERT_FILE=<cert file>."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file
