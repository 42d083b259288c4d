"""Email (EDM) over SMTP (SPEC 10): a messaging Provider.

- Settings: ``LAOKE["EMAIL"]`` (host, port, user, password, security starttls|ssl|none, from,
  unsubscribe_mailto, timeout, rate_per_minute), read from the environment in settings.py.
- One message per SMTP transaction, multipart/alternative (text, plus HTML when the row has one),
  ``Message-ID: <laoke-{row id}-{created_at µs}@{from domain}>`` — derived from *our* row, so the
  same row always carries the same id (the receiving side can drop a resend) and ``status`` can
  find it without ever having learnt anything from the server.
- Marketing mail carries ``List-Unsubscribe: <mailto:…>, <https://…/u/unsubscribe/…/one-click/>``
  and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 2369, RFC 8058).
- Errors: a 4xx reply, a refused connection, a timeout or a dropped connection → Transient
  (retried with backoff); a 5xx reply (mailbox unknown, message refused) → Permanent.
- ``status``: SMTP has no status API. The Message-ID is appended to an fsynced journal right
  after the server's 250 to DATA (channels/journal.py): found → 'sent', else 'unknown' (the
  message never got through, or the crash came in the microseconds between 250 and fsync).
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from django.conf import settings

from laoke.core import clock
from laoke.messaging.providers import PermanentSendError, SendResult, TransientSendError

from .journal import Journal
from .unsubscribe import one_click_url, unsubscribe_token


def _cfg() -> dict:
    return settings.LAOKE["EMAIL"]


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[1].strip(" >") if "@" in address else "laoke.local"


def message_id(message) -> str:
    stamp = int(message.created_at.timestamp() * 1_000_000)
    return f"<laoke-{message.pk}-{stamp}@{_domain(_cfg()['from'])}>"


def build_email(message) -> EmailMessage:
    cfg = _cfg()
    mail = EmailMessage()
    mail["From"] = cfg["from"]
    mail["To"] = message.to_address
    mail["Subject"] = message.subject or ""
    mail["Date"] = format_datetime(clock.now())
    mail["Message-ID"] = message_id(message)
    mail["X-Laoke-Purpose"] = message.purpose
    if message.kind == "marketing":
        mailto = cfg.get("unsubscribe_mailto") or cfg["from"]
        token = unsubscribe_token(message.member_id, "email")
        mail["List-Unsubscribe"] = (
            f"<mailto:{mailto}?subject=unsubscribe%20{token}>, <{one_click_url(message.member_id, 'email')}>"
        )
        mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail.set_content(message.body)
    if message.html_body:
        mail.add_alternative(message.html_body, subtype="html")
    return mail


def _classify(code: int, text) -> Exception:
    detail = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    msg = f"SMTP {code} {detail}"[:400]
    return PermanentSendError(msg) if 500 <= code < 600 else TransientSendError(msg)


class SmtpEmailProvider:
    name = "smtp"
    batch_size = 50
    journal = Journal("smtp")

    def __init__(self):
        cfg = _cfg()
        self.rate_per_minute = cfg.get("rate_per_minute")
        self._conn: smtplib.SMTP | None = None

    # --- connection ---------------------------------------------------------------------------

    def _connect(self) -> smtplib.SMTP:
        cfg = _cfg()
        if cfg["security"] == "ssl":
            conn = smtplib.SMTP_SSL(
                cfg["host"], cfg["port"], timeout=cfg["timeout"], context=ssl.create_default_context()
            )
        else:
            conn = smtplib.SMTP(cfg["host"], cfg["port"], timeout=cfg["timeout"])
            if cfg["security"] == "starttls":
                conn.starttls(context=ssl.create_default_context())
        if cfg.get("user"):
            conn.login(cfg["user"], cfg["password"])
        return conn

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._conn = None

    def __del__(self):  # a batch's provider goes away with the batch: say goodbye to the server
        try:
            self.close()
        except Exception:  # noqa: S110 - at interpreter exit modules may already be gone
            pass

    # --- Provider -----------------------------------------------------------------------------

    def send(self, message) -> SendResult:
        mail = build_email(message)
        mid = mail["Message-ID"]
        try:
            if self._conn is None:
                self._conn = self._connect()
            else:
                try:
                    self._conn.rset()  # the kept connection still alive? (servers drop idle ones)
                except (smtplib.SMTPException, OSError):
                    self.close()
                    self._conn = self._connect()
            envelope_from = parseaddr(_cfg()["from"])[1] or _cfg()["from"]
            self._conn.send_message(mail, from_addr=envelope_from, to_addrs=[message.to_address])
        except smtplib.SMTPRecipientsRefused as exc:
            self.close()
            code, text = next(iter(exc.recipients.values()))
            raise _classify(code, text) from exc
        except smtplib.SMTPResponseException as exc:  # sender refused, DATA refused, auth, HELO
            self.close()
            raise _classify(exc.smtp_code, exc.smtp_error) from exc
        except (smtplib.SMTPException, OSError) as exc:  # refused, timeout, disconnected, TLS
            self.close()
            raise TransientSendError(f"SMTP connection: {exc}"[:400]) from exc
        self.journal.record(mid)  # right after the 250: a crash from here on is resolved as 'sent'
        return SendResult(provider_message_id=mid.strip("<>"), segments=1)

    def status(self, message) -> str:
        return "sent" if self.journal.contains(message_id(message)) else "unknown"
