"""Browses a scanned library through hearth's /rest with py-opensonic: artists, albums,
album lists, genres, search3 and a folder scan started from the app. Called by tests/it/subsonic_library.rs with one JSON
argument (server, port, user, app password); prints one JSON object of what the client saw.
"""
import json
import sys
import time

import libopensonic

args = json.loads(sys.argv[1])
conn = libopensonic.Connection(args["url"], port=args["port"], app_name="hearth-test",
                               username=args["user"], password=args["password"])
seen = {}


def album(a):
    return {"id": a.id, "name": a.name, "artist": a.artist, "artistId": a.artist_id,
            "year": a.year, "songCount": a.song_count, "coverArt": a.cover_art}


artists = conn.get_artists()
seen["ignored"] = artists.ignored_articles
seen["index"] = {i.name: [a.name for a in (i.artist or [])] for i in (artists.index or [])}
seen["artists"] = {a.name: {"id": a.id, "albumCount": a.album_count}
                   for i in (artists.index or []) for a in (i.artist or [])}
swell = conn.get_artist(seen["artists"]["The Swell"]["id"])
seen["swell_albums"] = [album(a) for a in (swell.album or [])]

harbour = [a for a in seen["swell_albums"] if a["name"] == "Harbour Lights"][0]
full = conn.get_album(harbour["id"])
seen["harbour"] = album(full)
seen["harbour_songs"] = [{"id": s.id, "title": s.title, "track": s.track, "disc": s.disc_number, "album": s.album,
                          "albumId": s.album_id, "artistId": s.artist_id, "year": s.year,
                          "genre": s.genre, "suffix": s.suffix, "duration": s.duration, "size": s.size}
                         for s in (full.song or [])]

seen["by_name"] = [a.name for a in conn.get_album_list2("alphabeticalByName", size=50)]
seen["by_year"] = [a.name for a in conn.get_album_list2("byYear", size=50, from_year=2000, to_year=2020)]
seen["by_year_reversed"] = [a.name for a in conn.get_album_list2("byYear", size=50, from_year=2030, to_year=1990)]
seen["by_genre"] = [a.name for a in conn.get_album_list2("byGenre", size=50, genre="jazz")]
seen["paged"] = [a.name for a in conn.get_album_list2("alphabeticalByName", size=1, offset=1)]

seen["genres"] = {g.value: {"songs": g.song_count, "albums": g.album_count} for g in conn.get_genres()}
seen["songs_by_genre"] = sorted(s.title for s in conn.get_songs_by_genre("Folk", count=50))

found = conn.search3("harbour", artist_count=10, album_count=10, song_count=10)
seen["search_albums"] = [a.name for a in (found.album or [])]
seen["search_album_songs"] = sorted(s.title for s in (found.song or []))
found = conn.search3("swell", artist_count=10, album_count=10, song_count=0)
seen["search_artists"] = [a.name for a in (found.artist or [])]
found = conn.search3("quinn", artist_count=0, album_count=0, song_count=10)
seen["search_artist_songs"] = sorted(s.title for s in (found.song or []))

seen["random_jazz"] = sorted(s.title for s in conn.get_random_songs(size=50, genre="JAZZ"))
seen["random_years"] = sorted(s.title for s in conn.get_random_songs(size=50, from_year=2000, to_year=2010))
seen["random_folk_since"] = sorted(s.title for s in conn.get_random_songs(size=50, genre="folk", from_year=2010))

conn.create_playlist(name="Evening", song_ids=[s["id"] for s in seen["harbour_songs"]])
evening = [p for p in conn.get_playlists() if p.name == "Evening"][0]
seen["playlist_duration"] = {"listed": evening.duration, "one": conn.get_playlist(evening.id).duration}

directory = conn.get_music_directory(seen["artists"]["The Swell"]["id"])
seen["directory"] = [c.title for c in (directory.child or [])]
inner = conn.get_music_directory(harbour["id"])
seen["directory_songs"] = [c.title for c in (inner.child or [])]

# An app's "scan library" button: start a scan, then poll until it has finished.
conn.start_scan()
deadline = time.monotonic() + 30
status = conn.get_scan_status()
while status.scanning:
    if time.monotonic() > deadline:
        sys.exit("the scan did not finish within 30 s")
    time.sleep(0.02)
    status = conn.get_scan_status()
seen["scan_count"] = status.count

conn.cleanup()
print(json.dumps(seen))
