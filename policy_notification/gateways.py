"""Notification gateways (spec §9, §13.8): the eGA SMS gateway, the text-file provider, the ordered fallback.

A gateway's ``send_notification(content, family_number)`` answers a :class:`NotificationSendingResult` whose
``outcome`` says what is known about the message:

* ``SENT``: the gateway accepted it;
* ``FAILED``: it certainly was not accepted (HTTP 4xx/5xx, an ``error`` in the answer, no connection at all):
  the next provider may try, and a later run may retry it;
* ``UNKNOWN``: the request left but no answer came back (read timeout, connection dropped after sending): the
  gateway may have accepted it, so nothing retries it, neither here nor the next provider nor a later run (no
  duplicate SMS). An operator who knows better resets the indication to status 4.

Retries with back-off happen only where the request certainly did not reach the gateway (connection refused,
connect timeout) or the gateway says it did not take it (HTTP 429, 502, 503, 504).

Secrets come from the environment only (a ``PrivateKey`` in the module configuration is ignored):

* ``POLICY_NOTIFICATION_EGA_PRIVATE_KEY``: the eGA HMAC key (``PrivateKey``);
* ``POLICY_NOTIFICATION_EGA_USER_ID``: optional, overrides the configured ``UserId``.

Optional provider settings (any provider): ``Timeout`` (seconds, default 10; ``ConnectTimeout`` default 5),
``Retries`` (extra attempts, default 2), ``BackoffSeconds`` (first pause, doubled each retry, default 0.5).
"""
import base64
import datetime
import hashlib
import hmac
import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

SENT, FAILED, UNKNOWN = "sent", "failed", "unknown"
PRIVATE_KEY_ENV = "POLICY_NOTIFICATION_EGA_PRIVATE_KEY"
USER_ID_ENV = "POLICY_NOTIFICATION_EGA_USER_ID"
RETRYABLE_HTTP = {429, 502, 503, 504}


class GatewayConfigurationError(ImproperlyConfigured):
    """A provider setting is missing or unusable."""


class NotificationSendingResult:
    """What a gateway answered (spec §9): ``success`` defaults to ``bool(output)`` and is the truth value."""

    def __init__(self, output=None, success=None, error_message=None, *, outcome=None, attempts=1, provider=None):
        self.output = output
        self.success = bool(output) if success is None else bool(success)
        self.error_message = error_message
        self.outcome = outcome or (SENT if self.success else FAILED)
        self.attempts = attempts
        self.provider = provider

    def __bool__(self):
        return self.success

    def __repr__(self):
        return f"NotificationSendingResult({self.outcome}, provider={self.provider}, attempts={self.attempts}, " \
               f"error={self.error_message!r})"


class NotificationGateway:
    """Base of every provider: its settings under ``providers[<provider_configuration_key>]``."""

    provider_configuration_key = None
    secret_environment = {}  # setting name → environment variable (the only place a secret is read from)

    def __init__(self, config=None, *, sleep=time.sleep):
        self.config = dict(config or {})
        self.sleep = sleep

    @property
    def name(self):
        return self.provider_configuration_key or type(self).__name__

    def get_provider_config_param(self, param_name, default=...):
        env_name = self.secret_environment.get(param_name)
        if env_name:
            value = os.environ.get(env_name, "")
            if value:
                return value
            if default is not ...:
                return default
            raise GatewayConfigurationError(f"{self.name}: {param_name} is not set (environment variable {env_name})")
        if param_name in self.config:
            return self.config[param_name]
        if default is not ...:
            return default
        raise GatewayConfigurationError(f"{self.name}: setting {param_name} is missing")

    # --- request parts (spec §9: assembled by a requests prepared-request builder) ---------------------------
    def build_request(self, method, url, *, headers=None, params=None, body=None, auth=None):
        return requests.Request(method=method, url=url, headers=headers or {}, params=params, data=body,
                                auth=auth).prepare()

    def send_notification(self, content, family_number):
        raise NotImplementedError

    # --- timing -------------------------------------------------------------------------------------------
    def _number(self, name, default, kind=float):
        try:
            return kind(self.config.get(name, default))
        except (TypeError, ValueError):
            raise GatewayConfigurationError(f"{self.name}: {name} must be a number")

    @property
    def timeouts(self):
        return self._number("ConnectTimeout", 5), self._number("Timeout", 10)

    @property
    def retries(self):
        return max(0, self._number("Retries", 2, int))

    @property
    def backoff(self):
        return max(0.0, self._number("BackoffSeconds", 0.5))


# --- eGA -------------------------------------------------------------------------------------------------
def ega_timestamp(now=None):
    """UTC time plus three hours (East Africa), ``YYYY-MM-DD HH:MM:SS`` (spec §9.1)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if now.tzinfo is not None:
        now = now.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return (now + datetime.timedelta(hours=3)).strftime("%Y-%m-%d %H:%M:%S")


def compact_json(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True)


def ega_signature(private_key, message):
    digest = hmac.new(private_key.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


class EGASMSGateway(NotificationGateway):
    """The Tanzanian eGA SMS gateway: a signed JSON ``POST`` (spec §9.1)."""

    provider_configuration_key = "eGASMSGateway"
    secret_environment = {"PrivateKey": PRIVATE_KEY_ENV}

    def _user_id(self):
        return os.environ.get(USER_ID_ENV) or self.get_provider_config_param("UserId", "")

    def inner_message(self, content, family_number, timestamp):
        return compact_json({
            "message": content,
            "datetime": timestamp,
            "sender_id": self.get_provider_config_param("SenderId", ""),
            "mobile_service_id": self.get_provider_config_param("ServiceId", ""),
            "recipients": str(family_number),
        })

    def _header_value(self, symbol, signature):
        symbols = {"UserId": self._user_id, "RequestType": lambda: self.get_provider_config_param("RequestType", ""),
                   "HashMessage1": lambda: signature}
        if symbol not in symbols:
            # the shipped default lists PrivateKey: never put a secret in a header
            raise GatewayConfigurationError(f"{self.name}: unknown header value {symbol!r} "
                                            f"(use HashMessage1, UserId or RequestType)")
        return symbols[symbol]()

    def headers(self, signature):
        keys = [k.strip() for k in str(self.get_provider_config_param("HeaderKeys", "")).split(",") if k.strip()]
        values = [v.strip() for v in str(self.get_provider_config_param("HeaderValues", "")).split(",") if v.strip()]
        if len(keys) != len(values):
            raise GatewayConfigurationError(f"{self.name}: HeaderKeys and HeaderValues differ in length")
        headers = {"content-type": "application/json"}
        for key, symbol in zip(keys, values):
            headers[key] = str(self._header_value(symbol, signature))
        return headers

    def url(self):
        return str(self.get_provider_config_param("GateUrl")).rstrip("/") + \
            str(self.get_provider_config_param("SmsResource"))

    def prepare(self, content, family_number, now=None):
        """The signed request of one message (no network)."""
        timestamp = ega_timestamp(now)
        inner = self.inner_message(content, family_number, timestamp)
        signature = ega_signature(self.get_provider_config_param("PrivateKey"), inner)
        body = compact_json({"data": inner, "datetime": timestamp})
        return self.build_request("POST", self.url(), headers=self.headers(signature), body=body)

    def send_notification(self, content, family_number):
        try:
            request = self.prepare(content, family_number)
        except GatewayConfigurationError as exc:
            return NotificationSendingResult(None, False, str(exc), outcome=FAILED, attempts=0, provider=self.name)
        attempts, error = 0, None
        with requests.Session() as session:
            while True:
                attempts += 1
                outcome, output, error, retry_after = self._attempt(session, request)
                if outcome != FAILED or retry_after is None or attempts > self.retries:
                    return NotificationSendingResult(output, outcome == SENT, error, outcome=outcome,
                                                     attempts=attempts, provider=self.name)
                pause = max(retry_after, self.backoff * (2 ** (attempts - 1)))
                logger.info("%s: attempt %s failed (%s), retrying in %.2fs", self.name, attempts, error, pause)
                self.sleep(pause)

    def _attempt(self, session, request):
        """``(outcome, output, error, retry_after)``; ``retry_after`` is None when a retry is not safe."""
        try:
            response = session.send(request, timeout=self.timeouts, allow_redirects=False)
        except requests.exceptions.ConnectTimeout:
            return FAILED, None, "connection timed out", 0.0
        except requests.exceptions.ReadTimeout:
            return UNKNOWN, None, "no answer in time: the gateway may have accepted the message", None
        except requests.exceptions.ConnectionError as exc:
            if _never_connected(exc):
                return FAILED, None, "connection refused", 0.0
            return UNKNOWN, None, "connection dropped after sending: the gateway may have accepted the message", None
        except requests.exceptions.RequestException as exc:
            return FAILED, None, f"request failed: {type(exc).__name__}", None
        text = response.text[:500]
        if response.status_code != 200:
            retry_after = _retry_after(response) if response.status_code in RETRYABLE_HTTP else None
            return FAILED, None, f"HTTP {response.status_code}: {text}", retry_after
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if isinstance(answer, dict) and answer.get("error"):
            return FAILED, None, f"gateway error: {str(answer.get('error'))[:200]} {text}".strip(), None
        return SENT, text or "OK", None, None


def _never_connected(exc):
    """True when a ``ConnectionError`` happened before any byte of the request left (refused, no route, DNS)."""
    from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError

    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, (NewConnectionError, NameResolutionError))


def _retry_after(response):
    try:
        return min(30.0, max(0.0, float(response.headers.get("Retry-After", 0))))
    except ValueError:
        return 0.0


# --- text files ------------------------------------------------------------------------------------------
_FILE_NUMBER = re.compile(r"^SMSMessage_(\d+)\.txt$")


class TextNotificationProvider(NotificationGateway):
    """Development provider (spec §9.2): each message written to ``DestinationFolder/SMSMessage_<n>.txt``.

    A relative folder lies under ``MEDIA_ROOT``. ``n`` is one more than the highest number in the folder; the
    file is created exclusively, so two processes never overwrite each other's messages."""

    provider_configuration_key = "TextNotificationProvider"
    DEFAULT_FOLDER = "sent_notification"
    _lock = threading.Lock()

    def __init__(self, config=None, **kwargs):
        super().__init__(config, **kwargs)
        self._next = None

    @property
    def folder(self):
        folder = Path(self.config.get("DestinationFolder") or self.DEFAULT_FOLDER)
        return folder if folder.is_absolute() else Path(settings.MEDIA_ROOT) / folder

    def _highest(self, folder):
        numbers = (int(m.group(1)) for m in map(_FILE_NUMBER.match, os.listdir(folder)) if m)
        return max(numbers, default=0)

    def send_notification(self, content, family_number):
        folder = self.folder
        try:
            with self._lock:
                folder.mkdir(parents=True, exist_ok=True)
                if self._next is None:
                    self._next = self._highest(folder) + 1
                while True:
                    path = folder / f"SMSMessage_{self._next}.txt"
                    try:
                        with open(path, "x", encoding="utf-8") as handle:
                            handle.write(content)
                    except FileExistsError:  # another process wrote meanwhile
                        self._next = self._highest(folder) + 1
                        continue
                    self._next += 1
                    return NotificationSendingResult(str(path), True, provider=self.name)
        except OSError as exc:
            return NotificationSendingResult(None, False, f"cannot write {folder}: {exc.strerror}", outcome=FAILED,
                                             provider=self.name)


# --- registry and fallback -------------------------------------------------------------------------------
PROVIDER_CLASSES = {}


def register_provider(cls):
    PROVIDER_CLASSES[cls.provider_configuration_key.lower()] = cls
    PROVIDER_CLASSES[cls.__name__.lower()] = cls
    return cls


register_provider(EGASMSGateway)
register_provider(TextNotificationProvider)


def load_providers(providers_config=None, **kwargs):
    """Gateway instances in configured order; keys match classes case-insensitively, unknown keys are logged
    and skipped (spec §9)."""
    if providers_config is None:
        from django.apps import apps

        providers_config = getattr(type(apps.get_app_config("policy_notification")), "providers", {})
    providers = []
    for key, config in (providers_config or {}).items():
        cls = PROVIDER_CLASSES.get(str(key).lower())
        if cls is None:
            logger.warning("Notification provider %r is not known; skipped", key)
            continue
        provider = cls(config, **kwargs)
        provider.provider_configuration_key = key  # recorded under its configured name
        providers.append(provider)
    return providers


@dataclass
class DeliveryOutcome:
    """The fate of one message over the providers tried in order."""

    outcome: str
    provider: str | None = None
    attempts: int = 0
    output: str | None = None
    errors: list = field(default_factory=list)

    @property
    def sent(self):
        return self.outcome == SENT

    @property
    def last_error(self):
        return self.errors[-1] if self.errors else None


def send_with_fallback(providers, content, family_number):
    """Try ``providers`` in order until one accepts the message. An ``UNKNOWN`` answer stops the fallback: the
    message may be on its way, and a second provider would send it twice."""
    result = DeliveryOutcome(FAILED)
    if not providers:
        result.errors.append("no notification provider configured")
        return result
    for provider in providers:
        try:
            answer = provider.send_notification(content, family_number)
        except Exception as exc:  # a provider's defect must not stop the other providers
            logger.exception("Notification provider %s failed", provider.name)
            answer = NotificationSendingResult(None, False, f"{type(exc).__name__} in {provider.name}",
                                               outcome=FAILED, attempts=1, provider=provider.name)
        result.attempts += answer.attempts
        result.provider = provider.name
        if answer.outcome == SENT:
            result.outcome, result.output = SENT, answer.output
            return result
        result.errors.append(f"{provider.name}: {answer.error_message or 'not sent'}")
        if answer.outcome == UNKNOWN:
            result.outcome = UNKNOWN
            return result
    return result
