"""Rates, scrobbles, stars and asks for lyrics, recommendations and avatars through hearth's
/rest with py-opensonic. Called by tests/it/subsonic_activity.rs with one JSON argument
(server, port, user, app password, song ids by title, the Swell's artist id); prints one
JSON object of what the client saw.
"""
import asyncio
import json
import sys
import time

import libopensonic
from libopensonic import errors

args = json.loads(sys.argv[1])
conn = libopensonic.Connection(args["url"], port=args["port"], app_name="hearth-test",
                               username=args["user"], password=args["password"])
ids = args["songs"]
title_of = {v: k for k, v in ids.items()}
seen = {}


def titles(songs):
    return [title_of.get(s.id, s.id) for s in songs]


def album_names(kind):
    return [a.name for a in conn.get_album_list2(kind, size=50)]


# Ratings: per song, reported on songs and (averaged) on albums; 0 removes one.
for title, rating in [("Lantern", 5), ("Nightcap", 2), ("Smoke", 4), ("Gulls", 3)]:
    conn.set_rating(ids[title], rating)
conn.set_rating(ids["Gulls"], 0)
seen["lantern_rating"] = conn.get_song(ids["Lantern"]).user_rating
seen["gulls_rating"] = conn.get_song(ids["Gulls"]).user_rating
seen["album_ratings"] = {a.name: a.user_rating for a in conn.get_album_list2("alphabeticalByName", size=50)}
seen["highest"] = album_names("highest")

# Plays: Nightcap twice an hour ago, First Light once now; Gulls starts playing now.
an_hour_ago = int(time.time()) - 3600
conn.scrobble(ids["Nightcap"], submission=True, listen_time=an_hour_ago)
conn.scrobble(ids["Nightcap"], submission=True, listen_time=an_hour_ago + 60)
conn.scrobble(ids["First Light"], submission=True)
conn.scrobble(ids["Gulls"], submission=False)
nightcap = conn.get_song(ids["Nightcap"])
seen["nightcap_plays"] = {"count": nightcap.play_count, "played": nightcap.played}
seen["gulls_plays"] = conn.get_song(ids["Gulls"]).play_count
seen["now_playing"] = [{"title": title_of.get(n.id), "username": n.username, "player": n.player_name,
                        "minutesAgo": n.minutes_ago} for n in conn.get_now_playing()]
seen["frequent"] = album_names("frequent")
seen["recent"] = album_names("recent")
seen["album_plays"] = {a.name: a.play_count for a in conn.get_album_list2("frequent", size=50)}

# Favourites of songs make their albums "starred".
seen["starred_before"] = album_names("starred")
conn.star(sids=[ids["Smoke"]])
seen["starred"] = album_names("starred")

lyrics = conn.get_lyrics(artist="The Swell", title="lantern")
seen["lyrics"] = {"artist": lyrics.artist, "title": lyrics.title, "value": lyrics.value}
seen["no_lyrics"] = conn.get_lyrics(artist="The Swell", title="Gulls").value
structured = conn.get_lyrics_by_song_id(ids["Lantern"])
seen["structured"] = [[line.value for line in s.line] for s in structured]

# Recommendations: the Swell's own songs, and what is new beside them.
seen["top"] = titles(conn.get_top_songs("the swell", count=10))
seen["top_nobody"] = titles(conn.get_top_songs("Nobody At All"))
seen["similar"] = titles(conn.get_similar_songs2(args["swell"], count=10))
seen["similar_to_song"] = titles(conn.get_similar_songs2(ids["Lantern"], count=10))
try:
    conn.get_similar_songs2("ar-99999")
    seen["similar_missing"] = "found"
except errors.DataNotFoundError:
    seen["similar_missing"] = "DataNotFoundError"

res = conn.get_avatar(args["user"])
data = asyncio.run_coroutine_threadsafe(res.read(), conn._loop).result(timeout=30)
seen["avatar"] = {"type": res.headers.get("Content-Type"), "bytes": data.hex()}
try:
    conn.get_avatar("root")
    seen["root_avatar"] = "found"
except errors.DataNotFoundError:
    seen["root_avatar"] = "DataNotFoundError"

conn.cleanup()
print(json.dumps(seen))
