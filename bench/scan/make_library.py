"""Writes N tagged music files into a folder: copies of one MP3 and one FLAC (made by lame
and flac from generated PCM), each with its own tags (title, artists, album, album artist,
track, disc, year, genre; a cover on every album's first track; lyrics on every tenth).

    python make_library.py OUT N
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

from mutagen.flac import FLAC, Picture
from mutagen.id3 import APIC, ID3, TALB, TCON, TDRC, TIT2, TPE1, TPE2, TPOS, TRCK, USLT

ARTISTS = 100
ALBUMS = 500


def wav(path, seconds=2, rate=8000):
    samples = seconds * rate
    data = b"".join(struct.pack("<h", 8000 if (i // 20) % 2 else -8000) for i in range(samples))
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt ")
        f.write(struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16))
        f.write(b"data" + struct.pack("<I", len(data)) + data)


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    work = tempfile.mkdtemp()
    pcm = os.path.join(work, "tone.wav")
    wav(pcm)
    base_mp3, base_flac = os.path.join(work, "base.mp3"), os.path.join(work, "base.flac")
    subprocess.run(["lame", "--quiet", "-b", "128", pcm, base_mp3], check=True)
    subprocess.run(["flac", "--silent", "-f", "-o", base_flac, pcm], check=True)
    cover = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "cover.png"), "rb").read()
    for i in range(n):
        album = i % ALBUMS
        artist = album % ARTISTS
        track = i // ALBUMS + 1
        folder = os.path.join(out, f"Artist {artist:03}", f"Album {album:03}")
        os.makedirs(folder, exist_ok=True)
        title = f"Song {i:05}"
        year = str(1970 + album % 50)
        with_cover, lyrics = track == 1, f"line one of {i}\nline two" if i % 10 == 0 else None
        if i % 2 == 0:
            path = os.path.join(folder, f"{track:02} {title}.mp3")
            shutil.copyfile(base_mp3, path)
            tags = ID3()
            tags.add(TIT2(encoding=3, text=title))
            tags.add(TPE1(encoding=3, text=[f"Artist {artist:03}", f"Guest {i % 7}"]))
            tags.add(TALB(encoding=3, text=f"Album {album:03}"))
            tags.add(TPE2(encoding=3, text=f"Artist {artist:03}"))
            tags.add(TRCK(encoding=3, text=str(track)))
            tags.add(TPOS(encoding=3, text="1"))
            tags.add(TDRC(encoding=3, text=year))
            tags.add(TCON(encoding=3, text=f"Genre {album % 12}"))
            if with_cover:
                tags.add(APIC(encoding=3, mime="image/png", type=3, desc="", data=cover))
            if lyrics:
                tags.add(USLT(encoding=3, lang="eng", desc="", text=lyrics))
            tags.save(path)
        else:
            path = os.path.join(folder, f"{track:02} {title}.flac")
            shutil.copyfile(base_flac, path)
            f = FLAC(path)
            f["TITLE"], f["ARTIST"] = title, [f"Artist {artist:03}", f"Guest {i % 7}"]
            f["ALBUM"], f["ALBUMARTIST"] = f"Album {album:03}", f"Artist {artist:03}"
            f["TRACKNUMBER"], f["DISCNUMBER"], f["DATE"] = str(track), "1", year
            f["GENRE"] = f"Genre {album % 12}"
            if lyrics:
                f["LYRICS"] = lyrics
            if with_cover:
                pic = Picture()
                pic.type, pic.mime, pic.data = 3, "image/png", cover
                f.add_picture(pic)
            f.save()
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
