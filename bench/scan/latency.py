"""getAlbumList2 and search3 latency over /rest on the scanned bench library: requests one
after another (latency, not throughput) with a few kinds of list and search, then p50 and
p99 per method. Standard library only.

    python latency.py BASE_URL USER APP_PASSWORD [REQUESTS]     default 400 per method
"""
import json
import random
import sys
import time
import urllib.parse
import urllib.request

base, user, password = sys.argv[1], sys.argv[2], sys.argv[3]
requests = int(sys.argv[4]) if len(sys.argv) > 4 else 400
rng = random.Random(7)


def call(method, **params):
    query = {"v": "1.16.1", "c": "bench", "f": "json", "u": user, "p": password, **params}
    url = f"{base}/rest/{method}?{urllib.parse.urlencode(query)}"
    start = time.perf_counter()
    with urllib.request.urlopen(url, timeout=30) as res:
        body = res.read()
    took = (time.perf_counter() - start) * 1000
    answer = json.loads(body)["subsonic-response"]
    if answer["status"] != "ok":
        sys.exit(f"{method} {params} failed: {answer}")
    return took, answer


def album_list():
    kind = rng.choice(["newest", "alphabeticalByName", "alphabeticalByArtist", "random", "byYear", "byGenre"])
    params = {"type": kind, "size": 50, "offset": rng.choice([0, 0, 50, 200, 450])}
    if kind == "byYear":
        params.update(fromYear=1980, toYear=2000)
    if kind == "byGenre":
        params["genre"] = f"Genre {rng.randrange(12)}"
    return params


def search():
    query = rng.choice([f"Song {rng.randrange(10000):05}", f"Album {rng.randrange(500):03}",
                        f"Artist {rng.randrange(100):03}", "Song 0", "Guest", ""])
    return {"query": query, "artistCount": 20, "albumCount": 20, "songCount": 20}


def percentile(sorted_ms, p):
    return sorted_ms[min(len(sorted_ms) - 1, int(round(p / 100 * (len(sorted_ms) - 1))))]


# The library as a client sees it first, so the numbers are about a full catalogue.
_, first = call("getAlbumList2", type="alphabeticalByName", size=500)
_, everything = call("search3", query="", songCount=500)
print(f"   library: {len(first['albumList2']['album'])} albums on the first page, "
      f"{len(everything['searchResult3']['song'])} songs on the first search page")
for method, make in [("getAlbumList2", album_list), ("search3", search)]:
    for _ in range(20):  # warm-up
        call(method, **make())
    took = sorted(call(method, **make())[0] for _ in range(requests))
    print(f"   {method:13} {requests} requests  p50 {percentile(took, 50):7.2f} ms  "
          f"p99 {percentile(took, 99):7.2f} ms  max {took[-1]:7.2f} ms")
