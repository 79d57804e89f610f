"""Log-in, lock-out (django-axes), API tokens, sessions and the password policy (等保 baseline)."""

import hashlib
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessAttemptExpiration
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone

from tests import factories as f
from wenming.core.models import ApiToken, AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(station):
    return f.make_user("zhangsan", "station_admin", [station])


def console_login(client, username="zhangsan", password=f.PASSWORD):
    return client.post("/login/", {"username": username, "password": password})


def api_login(username="zhangsan", password=f.PASSWORD, name="脚本"):
    return f.Api().post("/auth/token", {"username": username, "password": password, "name": name})


def is_locked(username: str) -> bool:
    """Ask django-axes without making an attempt (an attempt during the lock-out restarts it)."""
    from axes.handlers.proxy import AxesProxyHandler

    return AxesProxyHandler.is_locked(RequestFactory().post("/login/"), credentials={"username": username})


def shift_lockout(minutes: int) -> None:
    """Pretend the failures happened `minutes` ago."""
    delta = timedelta(minutes=minutes)
    for attempt in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=attempt.attempt_time - delta)
    for exp in AccessAttemptExpiration.objects.all():
        AccessAttemptExpiration.objects.filter(pk=exp.pk).update(expires_at=exp.expires_at - delta)


# --- Lock-out on the console ------------------------------------------------------------------


def test_console_login_works(user):
    r = console_login(Client())
    assert r.status_code == 302


def test_console_wrong_password_says_so_in_chinese(user):
    r = console_login(Client(), password="wrong")
    assert r.status_code == 200
    assert "用户名或密码不正确" in r.content.decode()


def test_console_locks_after_five_failures_for_thirty_minutes(user):
    client = Client()
    for _ in range(4):
        assert console_login(client, password="wrong").status_code == 200
    r = console_login(client, password="wrong")  # the fifth failure locks
    assert r.status_code == 429
    assert "账号已锁定" in r.content.decode()
    r = console_login(client)  # even the right password is refused now
    assert r.status_code == 429
    assert "_auth_user_id" not in client.session
    assert console_login(Client()).status_code == 429  # from a fresh browser too

    shift_lockout(29)
    assert is_locked("zhangsan")
    shift_lockout(2)
    assert not is_locked("zhangsan")
    assert console_login(Client()).status_code == 302


def test_trying_again_while_locked_never_gets_in(user):
    for _ in range(5):
        console_login(Client(), password="wrong")
    for _ in range(3):
        assert console_login(Client()).status_code == 429
        assert api_login().status_code == 429
    assert not ApiToken.objects.exists()


def test_four_failures_then_success_resets_the_count(user):
    client = Client()
    for _ in range(4):
        console_login(client, password="wrong")
    assert console_login(client).status_code == 302
    for _ in range(4):
        assert console_login(Client(), password="wrong").status_code == 200
    assert console_login(Client()).status_code == 302


def test_lock_out_is_per_account_not_per_address(user, station):
    f.make_user("lisi", "station_admin", [station])
    for _ in range(5):
        console_login(Client(), password="wrong")
    assert console_login(Client()).status_code == 429
    assert console_login(Client(), "lisi").status_code == 302  # same address, other account


# --- Lock-out on the API ----------------------------------------------------------------------


def test_api_token_locks_after_five_failures_with_a_429_json(user):
    for _ in range(4):
        r = api_login(password="wrong")
        assert r.status_code == 401
        assert r.json()["code"] == "bad_credentials"
    r = api_login(password="wrong")
    assert r.status_code == 429
    assert r["Content-Type"].startswith("application/json")
    body = r.json()
    assert body["code"] == "account_locked"
    assert set(body) == {"code", "message", "details"}
    assert "锁定" in body["message"]
    r = api_login()
    assert r.status_code == 429 and r.json()["code"] == "account_locked"
    assert not ApiToken.objects.exists()

    shift_lockout(31)
    assert api_login().status_code == 200


def test_console_and_api_failures_count_together(user):
    for _ in range(3):
        console_login(Client(), password="wrong")
    for _ in range(2):
        api_login(password="wrong")
    assert api_login().json()["code"] == "account_locked"
    assert console_login(Client()).status_code == 429


def test_api_login_for_an_unknown_user_is_a_plain_401(db):
    r = api_login("nobody")
    assert r.status_code == 401 and r.json()["code"] == "bad_credentials"


def test_unknown_and_known_accounts_lock_alike(user):
    """The lock-out does not tell which usernames exist."""
    answers = {}
    for name in ["zhangsan", "nobody"]:
        answers[name] = [api_login(name, "wrong").json()["code"] for _ in range(6)]
    assert answers["zhangsan"] == answers["nobody"] == ["bad_credentials"] * 4 + ["account_locked"] * 2


def test_inactive_account_cannot_get_a_token(user):
    user.is_active = False
    user.save()
    assert api_login().status_code == 401


# --- Tokens ------------------------------------------------------------------------------------


def test_token_is_shown_once_and_only_its_sha256_is_stored(user):
    r = api_login(name="数据对接")
    assert r.status_code == 200
    body = r.json()
    key = body["token"]
    assert key.startswith("wm_") and len(key) > 40
    row = ApiToken.objects.get(pk=body["token_id"])
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert row.name == "数据对接" and row.user == user
    # Nowhere in the database: not the token table, not the audit trail.
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM core_apitoken")
        assert key not in repr(cursor.fetchall())
    for entry in AuditEntry.objects.all():
        assert key not in f"{entry.before} {entry.after} {entry.note} {entry.object_repr}"
    assert AuditEntry.objects.filter(action="api_token.create", actor=user).exists()


def test_bearer_token_authenticates_and_is_touched(user):
    key = api_login().json()["token"]
    r = f.Api(key).get("/orgs")
    assert r.status_code == 200
    assert r.json()["count"] == 1  # the station admin's station
    assert ApiToken.objects.get().last_used_at is not None


def test_bearer_request_creates_no_session(user):
    r = f.Api(f.make_token(user)).get("/orgs")
    assert r.status_code == 200
    assert settings.SESSION_COOKIE_NAME not in r.cookies
    assert not Session.objects.exists()


@pytest.mark.parametrize("header", ["Bearer wm_not-a-real-token", "Bearer ", "Basic emhhbmdzYW46eA==", "wm_x",
                                    "Bearer " + "x" * 5000])
def test_bad_authorization_is_401_json(user, header):
    r = f.Api().get("/orgs", headers={"authorization": header})
    assert r.status_code == 401
    assert r.json()["code"] == "not_authenticated"


def test_revoked_token_is_401(user):
    body = api_login().json()
    api = f.Api(body["token"])
    assert api.get("/orgs").status_code == 200
    r = api.delete(f"/auth/token/{body['token_id']}")
    assert r.status_code == 200
    assert ApiToken.objects.get().revoked_at is not None
    r = api.get("/orgs")
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"
    assert AuditEntry.objects.filter(action="api_token.revoke").exists()


def test_a_token_of_a_deactivated_account_stops_working(user):
    api = f.Api(f.make_token(user))
    user.is_active = False
    user.save()
    assert api.get("/orgs").status_code == 401


def test_nobody_revokes_someone_elses_token(user, station):
    other = f.make_user("lisi", "district_admin", [station])
    theirs = ApiToken.objects.get(pk=api_login().json()["token_id"])
    r = f.Api(f.make_token(other)).delete(f"/auth/token/{theirs.pk}")
    assert r.status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_console_token_page_shows_a_new_token_once(user):
    client = Client()
    client.force_login(user)
    r = client.post("/tokens/", {"name": "报表"})
    assert r.status_code == 200
    token = ApiToken.objects.get(user=user)
    page = r.content.decode()
    key = next(w for w in page.replace('"', " ").replace("<", " ").replace(">", " ").split() if w.startswith("wm_"))
    assert ApiToken.hash(key) == token.key_hash
    again = client.get("/tokens/").content.decode()
    assert key not in again
    assert "报表" in again


# --- Session vs Bearer ---------------------------------------------------------------------------


def test_session_authenticates_the_api(user):
    client = Client()
    client.force_login(user)
    r = client.get("/api/v1/orgs")
    assert r.status_code == 200 and r.json()["count"] == 1


def test_session_writes_need_the_csrf_token_bearer_writes_do_not(world):
    payload = {"node_id": world.S11.pk, "name": "新阵地", "kind": "park"}
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.station_admin)
    r = client.post("/api/v1/sites", payload, content_type="application/json")
    assert r.status_code == 403
    assert r.json()["code"] == "csrf_failed"
    assert "CSRF" in r.json()["message"]
    client.get("/api/v1/docs")  # sets the csrftoken cookie
    csrf = client.cookies["csrftoken"].value
    r = client.post("/api/v1/sites", payload, content_type="application/json", headers={"x-csrftoken": csrf})
    assert r.status_code == 201, r.content.decode()

    bearer = f.Api(world.tokens["station_admin"], client=Client(enforce_csrf_checks=True))
    r = bearer.post("/sites", {**payload, "name": "另一阵地"})
    assert r.status_code == 201


def test_expired_session_no_longer_authenticates(user):
    client = Client()
    client.force_login(user)
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/v1/orgs").status_code == 401


# --- Session idle expiry -----------------------------------------------------------------------


def test_idle_sessions_end_after_thirty_minutes():
    assert settings.SESSION_COOKIE_AGE == 1800
    assert "wenming.core.middleware.IdleSessionMiddleware" in settings.MIDDLEWARE
    assert settings.SESSION_COOKIE_HTTPONLY is True


def test_each_request_pushes_the_session_expiry_forward(user):
    client = Client()
    assert console_login(client).status_code == 302
    session = Session.objects.get()
    remaining = (session.expire_date - timezone.now()).total_seconds()
    assert 1790 < remaining <= 1800
    # Within a minute of the last push a request writes nothing …
    Session.objects.update(expire_date=timezone.now() + timedelta(minutes=5))
    client.get("/api/v1/orgs")
    remaining = (Session.objects.get().expire_date - timezone.now()).total_seconds()
    assert 290 < remaining <= 300
    # … after it, the next request pushes the expiry a full 30 minutes forward.
    store = SessionStore(session_key=session.session_key)
    store["_touched"] -= 61
    store.save()
    Session.objects.update(expire_date=timezone.now() + timedelta(minutes=5))
    client.get("/api/v1/orgs")
    remaining = (Session.objects.get().expire_date - timezone.now()).total_seconds()
    assert remaining > 1790


# --- Passwords -----------------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["Ab1!", "Ab1!xyz"])
def test_password_shorter_than_eight_is_refused(password):
    with pytest.raises(ValidationError):
        validate_password(password)


@pytest.mark.parametrize("password", ["abcdefghij", "ABCDEFGHIJ", "1234567890", "abcdefgh12", "ABCDEFGH!!", "abcdefg!!!"])
def test_password_with_fewer_than_three_classes_is_refused(password):
    with pytest.raises(ValidationError) as exc:
        validate_password(password)
    assert any("三类" in m for m in exc.value.messages)


@pytest.mark.parametrize("password", ["Wenming2024", "wenming-2024", "WENMING-2024", "Wm#2024x", f.PASSWORD, "文明实践Ab12"])
def test_password_with_three_classes_and_eight_characters_passes(password):
    validate_password(password)


def test_a_common_password_is_refused_even_with_three_classes():
    with pytest.raises(ValidationError):
        validate_password("Password1")


def test_argon2_is_the_configured_hasher():
    import wenming.settings as project

    assert project.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    with override_settings(PASSWORD_HASHERS=project.PASSWORD_HASHERS):
        encoded = make_password(f.PASSWORD)
        assert encoded.startswith("argon2$")
        assert check_password(f.PASSWORD, encoded)
        assert not check_password("wrong", encoded)


def test_lockout_settings_match_the_baseline():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME == timedelta(minutes=30)
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username"]


def test_a_successful_api_login_resets_the_count_like_the_console(user):
    for _ in range(4):
        api_login(password="wrong")
    assert api_login().status_code == 200
    for _ in range(4):
        assert api_login(password="wrong").status_code == 401
    assert api_login().status_code == 200
