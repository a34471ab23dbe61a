"""SnapStart's runtime hooks (warung.snapstart, docs/decisions/0025-snapstart.md).

Lambda runs the "before snapshot" hooks once, when a version is published, then starts any
number of execution environments from that one memory image, later. Here the image is the
state the hooks look after (the random generator, the last id, the caches aged on the
monotonic clock, the AWS clients), taken after the hooks ran and put back for each restored
"environment". The hooks run as the runtime runs them: from ``snapshot_restore_py``'s
registry, before-snapshot in reverse order of registration, after-restore in order.
"""

from __future__ import annotations

import importlib
import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import jwt
import pytest
import snapshot_restore_py
from warung_ops import signing_keys

from warung import auth, clients, ids, secrets, snapstart, tokens
from warung.dynamo import to_item
from warung.models import ApiModel

SECRET_ARN = "arn:aws:secretsmanager:ap-southeast-1:123456789012:secret:cursor"
SECRET_TTL_S = 15 * 60


def run_before_snapshot() -> None:
    for func, args, kwargs in reversed(snapshot_restore_py.get_before_snapshot()):
        func(*args, **kwargs)


def run_after_restore() -> None:
    for func, args, kwargs in snapshot_restore_py.get_after_restore():
        func(*args, **kwargs)


@dataclass
class MemoryImage:
    """The part of a snapshot that these tests watch."""

    random_state: Any
    last_id: tuple[int, int]
    secret_cache: dict[str, tuple[float, str]]
    auth_cache: dict[str, Any]

    @classmethod
    def take(cls) -> MemoryImage:
        return cls(
            random_state=random.getstate(),
            last_id=ids._last,
            secret_cache=dict(secrets._cache),
            auth_cache=dict(auth._state_cache),
        )

    def resume(self) -> None:
        """A new execution environment starts from this image."""
        random.setstate(self.random_state)
        ids._last = self.last_id
        secrets._cache.clear()
        secrets._cache.update(self.secret_cache)
        auth._state_cache.clear()
        auth._state_cache.update(self.auth_cache)


class MonotonicClock:
    """``time.monotonic`` as a restored microVM sees it: the paused time is not counted."""

    def __init__(self, start: float) -> None:
        self.value = start

    def __call__(self) -> float:
        return self.value


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This module's hooks registered (once per process, as a function's handler module
    does), with placeholder credentials so that nothing can reach a real account."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "snapshot-time-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "snapshot-time-secret")
    assert snapstart.install(services=("dynamodb",), modules=())
    clients.forget_clients()  # a fresh environment: no client, no resolved credentials
    secrets.clear_cache()
    auth.forget_all_auth_states()
    yield
    clients.forget_clients()
    secrets.clear_cache()
    auth.forget_all_auth_states()
    random.seed()


@pytest.fixture
def monotonic(monkeypatch: pytest.MonkeyPatch) -> MonotonicClock:
    clock = MonotonicClock(1_000.0)
    monkeypatch.setattr("time.monotonic", clock)
    return clock


@pytest.fixture
def signing_key(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    kid, pem, _ = signing_keys.generate_key()
    secret = json.dumps({"kid": kid, "private_key_pem": pem})
    monkeypatch.setattr(tokens, "_fetch_signing_secret", lambda: secret)
    tokens.clear_caches()
    yield
    tokens.clear_caches()


def test_two_environments_from_one_snapshot_make_different_ids_and_jitter(
    hooks: None, clock: ModuleType
) -> None:
    # Given a snapshot taken after an id was made, and two environments restored from it
    # while the clock still reads that millisecond (the test's clock stands still: ids made
    # in one millisecond continue the last id's sequence, so only the hook keeps them apart)
    run_before_snapshot()
    made_at_init = ids.new_id()
    image = MemoryImage.take()

    def environment(*, restored_by_hooks: bool) -> tuple[str, float]:
        image.resume()
        if restored_by_hooks:
            run_after_restore()
        return ids.new_id(), random.random()

    # Without the hooks the two would be twins: same next id, same "random" jitter
    assert environment(restored_by_hooks=False) == environment(restored_by_hooks=False)

    # When the after-restore hooks run
    first_id, first_jitter = environment(restored_by_hooks=True)
    second_id, second_jitter = environment(restored_by_hooks=True)

    # Then each environment makes its own ids and draws its own numbers
    assert first_id != second_id
    assert first_id != made_at_init
    assert first_jitter != second_jitter
    # and the ids still carry the restored time
    assert ids.id_time_ms(first_id) == ids.id_time_ms(second_id) == clock.epoch_ms()


def test_access_tokens_issued_after_restore_are_unique_and_dated_now(
    hooks: None, clock: ModuleType, signing_key: None
) -> None:
    # Given a snapshot taken at publish time, restored into two environments a day later
    published_at = clock.epoch_s()
    run_before_snapshot()
    image = MemoryImage.take()
    clock.advance(86_400)

    issued = []
    for _ in range(2):
        image.resume()
        run_after_restore()
        # When each environment issues an access token for the same session
        token, ttl = tokens.issue_access_token("usr_1", "ses_1")
        issued.append(jwt.decode(token, options={"verify_signature": False}))

    # Then the tokens have their own ids and the restored time, not the publish time
    assert issued[0]["jti"] != issued[1]["jti"]
    for claims in issued:
        assert claims["iat"] == clock.epoch_s() == published_at + 86_400
        assert claims["exp"] == claims["iat"] + ttl


def test_secret_cached_before_the_snapshot_is_read_again_after_restore(
    hooks: None, monotonic: MonotonicClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    class SecretStore:
        value = "key-at-publish"
        reads = 0

    store = SecretStore()

    class SecretsManager:
        def get_secret_value(self, SecretId: str) -> dict[str, str]:
            store.reads += 1
            return {"SecretString": store.value}

    monkeypatch.setattr(secrets, "_secrets_client", SecretsManager)
    # Given a secret read during init, then the snapshot, then a rotation days later
    assert secrets.get_secret(SECRET_ARN) == "key-at-publish"
    run_before_snapshot()
    image = MemoryImage.take()
    store.value = "rotated-key"
    monotonic.value += 1  # the restored VM's monotonic clock barely moved

    # Without the hooks the stale copy would look one second old and be used
    image.resume()
    assert secrets.get_secret(SECRET_ARN) == "key-at-publish"

    # When an environment is restored with the hooks
    image.resume()
    run_after_restore()

    # Then it reads the current value, and caches it for 15 minutes of its own time
    assert secrets.get_secret(SECRET_ARN) == "rotated-key"
    reads = store.reads
    monotonic.value += SECRET_TTL_S - 1
    assert secrets.get_secret(SECRET_ARN) == "rotated-key"
    assert store.reads == reads
    monotonic.value += 2
    secrets.get_secret(SECRET_ARN)
    assert store.reads == reads + 1


def test_account_disabled_after_the_snapshot_is_refused_at_once_after_restore(
    hooks: None, monotonic: MonotonicClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = {"pk": "USER#u1", "sk": "PROFILE", "disabled": False, "roles": ["customer"]}

    class Table:
        def get_item(self, **request: Any) -> dict[str, Any]:
            return {"Item": to_item(account)}

    monkeypatch.setattr("warung.dynamo.dynamodb_client", Table)
    # Given an account's auth state cached in the snapshot, then the account disabled
    state = auth.load_auth_state("u1")
    assert state is not None
    assert not state.disabled
    run_before_snapshot()
    image = MemoryImage.take()
    account["disabled"] = True
    monotonic.value += 1

    # Without the hooks the cached "enabled" state would still be served
    image.resume()
    cached = auth.load_auth_state("u1")
    assert cached is not None
    assert not cached.disabled

    # When an environment is restored with the hooks, the account's state is read again
    image.resume()
    run_after_restore()
    restored = auth.load_auth_state("u1")
    assert restored is not None
    assert restored.disabled


def test_clients_are_made_again_after_restore_with_the_models_parsed_before(
    hooks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a client made during init (credentials of publish time) and the snapshot
    run_before_snapshot()
    loader = clients._botocore_session().get_component("data_loader")
    at_init = clients.aws_client("dynamodb")
    MemoryImage.take()

    # When an environment is restored, where the runtime hands out other credentials
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "restored-environment-key")
    run_after_restore()
    restored = clients.aws_client("dynamodb")

    # Then its client is new and signs with the environment's own credentials
    assert restored is not at_init
    assert restored._request_signer._credentials.access_key == "restored-environment-key"
    # while the service models parsed before the snapshot are reused
    assert clients._botocore_session().get_component("data_loader") is loader


def test_models_built_on_first_use_are_built_before_the_snapshot(hooks: None) -> None:
    # Given a body model not used yet (a plain cold start builds it on its first request)
    class Parcel(ApiModel):
        weight_grams: int

    assert not Parcel.__pydantic_complete__

    # When the before-snapshot hook primes the function
    run_before_snapshot()

    # Then the snapshot holds it built: a restored environment validates without building
    assert Parcel.__pydantic_complete__
    assert Parcel.model_validate({"weight_grams": 250}).weight_grams == 250


def test_priming_leaves_no_client_or_credentials_in_the_snapshot(hooks: None) -> None:
    # When the before-snapshot hook primes the service models
    run_before_snapshot()

    # Then no client (credentials, connection pool) is kept for the snapshot
    assert clients.aws_client.cache_info().currsize == 0
    assert clients._botocore_session()._credentials is None


def test_hooks_are_registered_once_however_often_install_is_called(hooks: None) -> None:
    before = list(snapshot_restore_py.get_before_snapshot())
    after = list(snapshot_restore_py.get_after_restore())

    assert snapstart.install()
    assert snapstart.install()

    assert snapshot_restore_py.get_before_snapshot() == before
    assert snapshot_restore_py.get_after_restore() == after
    assert [f for f, _, _ in before].count(snapstart.before_snapshot) == 1
    assert [f for f, _, _ in after].count(snapstart.after_restore) == 1


def test_without_the_runtime_library_install_registers_nothing_and_fails_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a process where snapshot_restore_py cannot be imported (outside Lambda)
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)

    # Then installing is a no-op that says so
    assert snapstart.install() is False


def test_a_handler_module_imports_where_the_runtime_library_is_absent() -> None:
    # Given a fresh interpreter without snapshot_restore_py (the local runtime, a bare venv)
    program = (
        "import sys; sys.modules['snapshot_restore_py'] = None\n"
        "from warung import snapstart\n"
        "print(snapstart.install())\n"
    )
    layer = Path(snapstart.__file__).resolve().parent.parent

    # When the hooks module is imported and installed
    result = subprocess.run(
        [sys.executable, "-c", program],
        env={**os.environ, "PYTHONPATH": str(layer)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    # Then nothing fails and nothing is registered
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("function", ["auth", "catalog", "orders", "payments"])
def test_before_snapshot_primes_each_snapstart_function_without_error(
    function: str, hooks: None
) -> None:
    # Given the function's handler module and its resolver
    module = importlib.import_module(f"{function}.app")
    snapstart.install(module.app)

    # When the version is published, the before-snapshot hook runs without raising
    # (a raising hook would fail the publish)
    run_before_snapshot()

    # and still keeps no client for the snapshot
    assert clients.aws_client.cache_info().currsize == 0
