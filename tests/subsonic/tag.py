"""Writes a test song's tags with mutagen, replacing any it had: ID3v2 for .mp3, Vorbis
comments (and a picture block) for .flac. Called by tests/it/music_scan.rs with one JSON
argument: path, title, artist, album, album_artist, track, disc, year, genre, lyrics and
cover (hex of a PNG, or "").
"""
import json
import sys

from mutagen.flac import FLAC, Picture
from mutagen.id3 import APIC, ID3, TALB, TCON, TDRC, TIT2, TPE1, TPE2, TPOS, TRCK, USLT

song = json.loads(sys.argv[1])
cover = bytes.fromhex(song["cover"])
path = song["path"]

if path.endswith(".mp3"):
    tags = ID3()
    tags.add(TIT2(encoding=3, text=song["title"]))
    tags.add(TPE1(encoding=3, text=song["artist"]))
    tags.add(TALB(encoding=3, text=song["album"]))
    tags.add(TPE2(encoding=3, text=song["album_artist"]))
    tags.add(TRCK(encoding=3, text=str(song["track"])))
    tags.add(TPOS(encoding=3, text=str(song["disc"])))
    tags.add(TDRC(encoding=3, text=song["year"]))
    tags.add(TCON(encoding=3, text=song["genre"]))
    if song["lyrics"]:
        tags.add(USLT(encoding=3, lang="eng", desc="", text=song["lyrics"]))
    if cover:
        tags.add(APIC(encoding=3, mime="image/png", type=3, desc="", data=cover))
    tags.save(path)
elif path.endswith(".flac"):
    f = FLAC(path)
    f.clear()
    f.clear_pictures()
    f["TITLE"], f["ARTIST"], f["ALBUM"] = song["title"], song["artist"], song["album"]
    f["ALBUMARTIST"], f["GENRE"], f["DATE"] = song["album_artist"], song["genre"], song["year"]
    f["TRACKNUMBER"], f["DISCNUMBER"] = str(song["track"]), str(song["disc"])
    if song["lyrics"]:
        f["LYRICS"] = song["lyrics"]
    if cover:
        picture = Picture()
        picture.type, picture.mime, picture.data = 3, "image/png", cover
        f.add_picture(picture)
    f.save()
else:
    sys.exit(f"no tags for {path}")
