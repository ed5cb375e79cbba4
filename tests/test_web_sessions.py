"""emovc/web/sessions.py: private folders, unknown tokens refused, idle sessions expire, beyond the
limit the longest-idle one goes if idle long enough (else new ones are refused), everything
removed at shutdown. (Idle time is set by
moving a session's last-seen time back, so the test does not depend on the machine's speed.)"""
import pytest

from emovc.web.sessions import Sessions
from emovc.web.uploads import RequestError


def test_sessions_are_private_and_expire():
    sessions = Sessions(ttl_s=60, max_sessions=2, evict_idle_s=20)
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


def test_a_full_server_refuses_new_pages_instead_of_closing_pages_in_use():
    """Issue 20: 40 new sessions closed the 20 older ones, uploads and all; now only an idle one goes."""
    sessions = Sessions(ttl_s=3600, max_sessions=20, evict_idle_s=300)
    pages = [sessions.new() for _ in range(20)]
    for _ in range(40):
        with pytest.raises(RequestError, match="the server is busy") as e:
            sessions.new()
        assert e.value.status == 503
    assert all(sessions.get(p.token) is p and p.folder.is_dir() for p in pages)
    pages[7].seen -= 301                        # idle past evict_idle_s: it may make room
    newcomer = sessions.new()
    assert not pages[7].folder.exists() and len(sessions.open) == 20 and sessions.get(newcomer.token)
    sessions.close_all()
