"""Gateways (spec §9, §13.8) against the loopback SMS server: the eGA signature, answers of every kind, retries
only where safe, secrets from the environment, the text provider and the ordered fallback."""
import base64
import datetime
import hashlib
import hmac
import json
import socket

import pytest

from policy_notification.gateways import (FAILED, SENT, UNKNOWN, EGASMSGateway, TextNotificationProvider,
                                          load_providers, send_with_fallback)
from tests.policy_notification.helpers_e import EGA_KEY, ega_config, ega_secret, sms_server  # noqa: F401


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


def test_ega_test_vector_of_the_spec(monkeypatch):
    monkeypatch.setenv("POLICY_NOTIFICATION_EGA_PRIVATE_KEY", "private_key")
    gateway = EGASMSGateway({"GateUrl": "http://127.0.0.1:8000", "SmsResource": "/api/gateway_endpoint/",
                             "UserId": "test_user_id", "SenderId": "sender_id", "ServiceId": "service_id",
                             "RequestType": "api", "HeaderKeys": "X-Auth-Request-Hash,X-Auth-Request-Id,"
                             "X-Auth-Request-Type", "HeaderValues": "HashMessage1,UserId,RequestType"})
    request = gateway.prepare("test", 1, now=datetime.datetime(2021, 7, 13, 8, 16, 34, tzinfo=datetime.timezone.utc))
    assert request.method == "POST"
    assert request.url == "http://127.0.0.1:8000/api/gateway_endpoint/"
    assert request.headers["X-Auth-Request-Hash"] == "lI/b3Yz3uIByNpQy+D2xcfBK5I9uoPUAE/sqtw1COxw="
    assert request.headers["X-Auth-Request-Id"] == "test_user_id"
    assert request.headers["X-Auth-Request-Type"] == "api"
    assert request.headers["content-type"] == "application/json"
    assert len(request.body) == 189
    body = json.loads(request.body)
    assert body["datetime"] == "2021-07-13 11:16:34"
    assert list(json.loads(body["data"])) == ["message", "datetime", "sender_id", "mobile_service_id", "recipients"]


def test_request_builder_get_with_params_and_basic_auth_post_with_body():
    gateway = TextNotificationProvider()
    get = gateway.build_request("GET", "http://gw.example/send", params={"to": "255700", "text": "a b"},
                                auth=("user", "pass"))
    assert get.url == "http://gw.example/send?to=255700&text=a+b"
    assert get.headers["Authorization"] == "Basic " + base64.b64encode(b"user:pass").decode()
    assert get.body is None
    post = gateway.build_request("POST", "http://gw.example/send", body="hello", headers={"X-Key": "1"})
    assert post.body == "hello" and post.headers["Content-Length"] == "5" and post.headers["X-Key"] == "1"


def test_a_message_reaches_the_gateway_signed_with_the_key_from_the_environment(sms_server, ega_secret):
    result = EGASMSGateway(ega_config(sms_server)).send_notification("Habari, Amina", "+255712345678")
    assert result and result.outcome == SENT and result.attempts == 1
    [request] = sms_server.received
    assert request["path"] == "/api/sms/" and request["method"] == "POST"
    body = json.loads(request["body"])
    expected = base64.b64encode(hmac.new(EGA_KEY.encode(), body["data"].encode(), hashlib.sha256).digest()).decode()
    assert request["headers"]["X-Auth-Request-Hash"] == expected
    assert request["headers"]["X-Auth-Request-Id"] == "openimis"
    assert sms_server.messages() == [{"message": "Habari, Amina", "datetime": body["datetime"],
                                      "sender_id": "OPENIMIS", "mobile_service_id": "42",
                                      "recipients": "+255712345678"}]


def test_a_private_key_in_the_configuration_is_never_used(sms_server, monkeypatch):
    monkeypatch.delenv("POLICY_NOTIFICATION_EGA_PRIVATE_KEY", raising=False)
    result = EGASMSGateway(ega_config(sms_server, PrivateKey="from-the-database")).send_notification("x", "1")
    assert not result and result.outcome == FAILED and result.attempts == 0
    assert "POLICY_NOTIFICATION_EGA_PRIVATE_KEY" in result.error_message
    assert sms_server.received == []


def test_a_secret_is_never_put_in_a_header(sms_server, ega_secret):
    result = EGASMSGateway(ega_config(sms_server, HeaderValues="PrivateKey,UserId,RequestType")).send_notification(
        "x", "1")
    assert result.outcome == FAILED and "PrivateKey" in result.error_message
    assert sms_server.received == []


@pytest.mark.parametrize("status", [400, 401, 404, 500])
def test_a_refusal_is_a_failure_not_retried(sms_server, ega_secret, status):
    sleeps = Sleeps()
    sms_server.answer(status)
    result = EGASMSGateway(ega_config(sms_server), sleep=sleeps).send_notification("x", "1")
    assert result.outcome == FAILED and f"HTTP {status}" in result.error_message
    assert len(sms_server.received) == 1 and result.attempts == 1 and sleeps == []


def test_an_error_in_a_200_answer_is_a_failure(sms_server, ega_secret):
    sms_server.answer("rejected")
    result = EGASMSGateway(ega_config(sms_server)).send_notification("x", "1")
    assert result.outcome == FAILED and "invalid recipient" in result.error_message


def test_unavailable_gateway_is_retried_with_back_off(sms_server, ega_secret):
    sleeps = Sleeps()
    sms_server.answer(503, 502)
    result = EGASMSGateway(ega_config(sms_server, BackoffSeconds=0.5), sleep=sleeps).send_notification("x", "1")
    assert result.outcome == SENT and result.attempts == 3 and len(sms_server.received) == 3
    assert sleeps == [0.5, 1.0]


def test_retries_are_bounded(sms_server, ega_secret):
    sleeps = Sleeps()
    sms_server.default = 503
    result = EGASMSGateway(ega_config(sms_server, Retries=3), sleep=sleeps).send_notification("x", "1")
    assert result.outcome == FAILED and result.attempts == 4 and len(sms_server.received) == 4 and len(sleeps) == 3


def test_no_server_listening_is_retried_then_fails(ega_secret):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps = Sleeps()
    config = {"GateUrl": f"http://127.0.0.1:{port}", "SmsResource": "/", "HeaderKeys": "", "HeaderValues": "",
              "Retries": 1, "BackoffSeconds": 0.2}
    result = EGASMSGateway(config, sleep=sleeps).send_notification("x", "1")
    assert result.outcome == FAILED and result.attempts == 2 and result.error_message == "connection refused"
    assert sleeps == [0.2]


def test_a_slow_answer_is_unknown_and_never_retried(sms_server, ega_secret):
    sleeps = Sleeps()
    sms_server.answer(("slow", 3))
    result = EGASMSGateway(ega_config(sms_server, Timeout=0.3), sleep=sleeps).send_notification("x", "1")
    assert result.outcome == UNKNOWN and not result and result.attempts == 1
    assert len(sms_server.received) == 1 and sleeps == []


def test_a_dropped_connection_after_sending_is_unknown(sms_server, ega_secret):
    sms_server.answer("drop")
    result = EGASMSGateway(ega_config(sms_server)).send_notification("x", "1")
    assert result.outcome == UNKNOWN and "may have accepted" in result.error_message
    assert len(sms_server.received) == 1


def test_text_provider_numbers_its_files(tmp_path, settings):
    folder = tmp_path / "out"
    provider = TextNotificationProvider({"DestinationFolder": str(folder)})
    first = provider.send_notification("first message", "+255700000001")
    assert first and first.output == str(folder / "SMSMessage_1.txt")
    assert (folder / "SMSMessage_1.txt").read_text() == "first message"
    (folder / "SMSMessage_7.txt").write_text("written by someone else")
    (folder / "notes.txt").write_text("ignored")
    second = TextNotificationProvider({"DestinationFolder": str(folder)}).send_notification("second", "1")
    assert second.output == str(folder / "SMSMessage_8.txt")
    # a stale counter (another process wrote the next number) never overwrites a message
    (folder / "SMSMessage_2.txt").write_text("other process")
    third = provider.send_notification("third", "1")
    assert third.output == str(folder / "SMSMessage_9.txt")
    assert (folder / "SMSMessage_2.txt").read_text() == "other process"


def test_text_provider_default_folder_under_media_root(tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path)
    result = TextNotificationProvider(None).send_notification("hello", "1")
    assert result.output == str(tmp_path / "sent_notification" / "SMSMessage_1.txt")


def test_text_provider_failure_is_reported(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = TextNotificationProvider({"DestinationFolder": str(blocker / "sub")}).send_notification("x", "1")
    assert not result and result.outcome == FAILED and "cannot write" in result.error_message


def test_providers_load_in_configured_order_case_insensitively(caplog):
    providers = load_providers({"textnotificationprovider": {"DestinationFolder": "a"}, "Carrier-Pigeon": {},
                                "EGASMSGATEWAY": {}})
    assert [type(p) for p in providers] == [TextNotificationProvider, EGASMSGateway]
    assert [p.name for p in providers] == ["textnotificationprovider", "EGASMSGATEWAY"]
    assert "Carrier-Pigeon" in caplog.text


def test_fallback_to_the_next_provider_when_the_first_refuses(sms_server, ega_secret, tmp_path):
    sms_server.default = 400
    providers = load_providers({"eGASMSGateway": ega_config(sms_server),
                                "TextNotificationProvider": {"DestinationFolder": str(tmp_path)}})
    outcome = send_with_fallback(providers, "the message", "+255700000001")
    assert outcome.sent and outcome.provider == "TextNotificationProvider" and outcome.attempts == 2
    assert outcome.errors[0].startswith("eGASMSGateway: HTTP 400")
    assert (tmp_path / "SMSMessage_1.txt").read_text() == "the message"


def test_no_fallback_when_the_first_may_have_sent(sms_server, ega_secret, tmp_path):
    sms_server.default = "drop"
    providers = load_providers({"eGASMSGateway": ega_config(sms_server),
                                "TextNotificationProvider": {"DestinationFolder": str(tmp_path)}})
    outcome = send_with_fallback(providers, "the message", "+255700000001")
    assert outcome.outcome == UNKNOWN and outcome.provider == "eGASMSGateway"
    assert list(tmp_path.iterdir()) == []


def test_every_provider_failing_keeps_every_error(sms_server, ega_secret, tmp_path):
    sms_server.default = 401
    blocker = tmp_path / "file"
    blocker.write_text("")
    providers = load_providers({"eGASMSGateway": ega_config(sms_server),
                                "TextNotificationProvider": {"DestinationFolder": str(blocker / "x")}})
    outcome = send_with_fallback(providers, "m", "1")
    assert outcome.outcome == FAILED and len(outcome.errors) == 2 and "cannot write" in outcome.last_error
    assert send_with_fallback([], "m", "1").last_error == "no notification provider configured"
