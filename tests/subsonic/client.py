"""Drives hearth's /rest with py-opensonic, a Subsonic client written by others.

Called by tests/it/subsonic.rs with one JSON argument (server, port, user, app password,
the uploaded MP3's path and title); prints one JSON object of what the client saw. The Rust
test checks the other side (favourites and playlists on /music/api).
"""
import asyncio
import json
import sys

import libopensonic
from libopensonic import errors

args = json.loads(sys.argv[1])
url, port, user, password = args["url"], args["port"], args["user"], args["password"]
seen = {}


def connect(**kw):
    return libopensonic.Connection(url, port=port, app_name="hearth-test", **kw)


conn = connect(username=user, password=password)
seen["ping"] = conn.ping()

wrong = connect(username=user, password=password + "x")
try:
    wrong.ping()
    seen["wrong"] = "accepted"
except errors.CredentialError as e:
    seen["wrong"] = "CredentialError"
wrong.cleanup()

legacy = connect(username=user, password=password, legacy_auth=True, use_get=True)
seen["legacy_ping"] = legacy.ping()
legacy.cleanup()
keyed = connect(api_key=password)
seen["api_key_ping"] = keyed.ping()
# A client signed in with the key alone learns from it whose key it is.
seen["api_key_user"] = keyed.token_info().username
keyed.cleanup()

found = conn.search3(args["title"], song_count=10)
seen["search"] = [{"id": s.id, "title": s.title, "suffix": s.suffix, "size": s.size} for s in (found.song or [])]
mid = seen["search"][0]["id"] if seen["search"] else None

if mid is not None:
    res = conn.stream(mid)
    # The sync client hands back the aiohttp response; its body is read on the client's loop.
    data = asyncio.run_coroutine_threadsafe(res.read(), conn._loop).result(timeout=30)
    with open(args["file"], "rb") as f:
        seen["stream_equal"] = data == f.read()
    seen["stream_len"] = len(data)

    conn.star(sids=[mid])
    starred = conn.get_starred2()
    seen["starred"] = [s.id for s in (starred.song or [])]

    conn.create_playlist(name="Road trip", song_ids=[mid])
    made = [p for p in conn.get_playlists() if p.name == "Road trip"]
    playlist = conn.get_playlist(made[0].id)
    seen["playlist"] = {"id": playlist.id, "name": playlist.name, "entries": [e.id for e in (playlist.entry or [])]}

    # The play queue another device goes on with: by song id, then by index (a song twice).
    other = conn.search3("Other Tune", song_count=10).song[0].id
    conn.save_play_queue([mid, other, mid], current=other, position=42000)
    queue = conn.get_play_queue()
    seen["queue"] = {"entries": [e.id for e in (queue.entry or [])], "current": queue.current,
                     "position": queue.position, "changedBy": queue.changed_by, "username": queue.username}
    conn.save_play_queue_by_index(ids=[mid, other, mid], current_index=2, position=1000)
    queue = conn.get_play_queue_by_index()
    seen["queue_by_index"] = {"entries": [e.id for e in (queue.entry or [])], "currentIndex": queue.current_index,
                              "position": queue.position}
    seen["other"] = other

    try:
        conn.get_song("999999")
        seen["missing_song"] = "found"
    except errors.DataNotFoundError:
        seen["missing_song"] = "DataNotFoundError"

conn.cleanup()
print(json.dumps(seen))
