"""web/sessions.py: private folders, unknown tokens refused, idle sessions expire, the
longest-idle one goes beyond the limit, everything removed at shutdown. (Idle time is set by
moving a session's last-seen time back, so the test does not depend on the machine's speed.)"""
import pytest

from web.sessions import Sessions
from web.uploads import RequestError


def test_sessions_are_private_and_expire():
    sessions = Sessions(ttl_s=60, max_sessions=2)
    a, b = sessions.new(), sessions.new()
    assert a.token != b.token and len(a.token) >= 24
    assert a.folder.parent == b.folder.parent == sessions.root
    assert a.folder.stat().st_mode & 0o077 == 0 and sessions.root.stat().st_mode & 0o077 == 0
    assert sessions.get(a.token) is a
    with pytest.raises(RequestError, match="expired or does not exist") as e:
        sessions.get("guessed-token")
    assert e.value.status == 404

    b.seen -= 30                                # b is the longest idle (not yet expired)
    c = sessions.new()                          # beyond max_sessions: b is closed
    assert not b.folder.exists() and set(sessions.open) == {a.token, c.token}

    a.seen -= 61                                # a is idle past the ttl
    with pytest.raises(RequestError):
        sessions.get(a.token)
    assert not a.folder.exists() and sessions.get(c.token) is c
    sessions.close_all()
    assert not sessions.root.exists() and not sessions.open
