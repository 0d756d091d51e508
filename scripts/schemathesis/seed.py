"""Prepares a running hearth for the contract run: logs the super-administrator in on
every surface and creates a few rows of each kind, so that reads answer real data and the
fuzzer's ids sometimes hit something. Prints `NAME=value` lines for the run's
configuration files.

Usage: seed.py BASE_URL USERNAME PASSWORD PHONE
"""

import base64
import io
import struct
import sys
import wave
import zlib

import requests

BASE, USERNAME, PASSWORD, PHONE = sys.argv[1:5]
session = requests.Session()


def fail(what, answer):
    sys.exit(f"seeding failed at {what}: {answer}")


def expect(what, response, ok):
    """The JSON answer when `ok(answer)` holds; stops the run otherwise."""
    try:
        answer = response.json()
    except ValueError:
        fail(what, f"HTTP {response.status_code}, not JSON: {response.text[:300]!r}")
    if response.status_code != 200 or not ok(answer):
        fail(what, f"HTTP {response.status_code} {answer}")
    return answer


def care(path, kind, subtype, data, token=None):
    body = {"id": 1, "type": kind, "subtype": subtype, "data": data}
    params = {"token": token} if token else None
    answer = session.post(f"{BASE}/care{path}", params=params, json=body)
    return expect(f"care {path} {subtype}", answer, lambda a: a.get("status") == 0)["data"]


def png(width=8, height=6):
    rows = b"".join(b"\x00" + bytes([40, 90, 160]) * width for _ in range(height))

    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def wav(frames=4000):
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x10" * frames)
    return out.getvalue()


def system_token():
    answer = session.post(f"{BASE}/system/api/auth/login", json={"loginname": USERNAME, "password": PASSWORD})
    return expect("system login", answer, lambda a: a.get("code") == 0)["data"]["token"]


def music_token():
    answer = session.post(f"{BASE}/music/api/user/login", data={"username": USERNAME, "password": PASSWORD})
    return expect("music login", answer, lambda a: a.get("code") == 0)["data"]


def transit_token():
    answer = session.post(f"{BASE}/transit/api/userprofile/login", json={"username": USERNAME, "password": PASSWORD})
    return expect("transit login", answer, lambda a: a.get("code") == 2000)["data"]["token"]


def seed_care():
    token = care("/api/user/login", "login", "pass", {"phone": PHONE, "pass": PASSWORD})["token"]
    device = care("/api/device", "device", "add", {"device": "hall camera"}, token)["device_id"]
    care("/api/notice", "notice", "upload", {"base64": base64.b64encode(png()).decode(), "content": "fall in the hall"}, device)
    notices = care("/api/get/notice", "notice", "get", {"mode": 2}, token)["list"]
    return token, device, notices[0]["event_id"]


def seed_music(token):
    auth = {"Authorization": token}
    fields = {"musicname": "morning", "creator": "[1]", "album": "[1]", "publishedTime": "1435645397", "introduction": "seed"}
    files = {"res": ("morning.wav", wav(), "audio/wav"), "musicAvatar": ("cover.png", png(), "image/png")}
    answer = session.post(f"{BASE}/music/api/music", headers=auth, data=fields, files=files)
    song = expect("music song upload", answer, lambda a: a.get("code") == 0)["data"]
    answer = session.post(f"{BASE}/music/api/musiclist", headers=auth, data={"musiclistname": "seed list", "style": "pop"})
    playlist = expect("music playlist", answer, lambda a: a.get("code") == 0)["data"]
    answer = session.post(f"{BASE}/music/api/music/listed", headers=auth, data={"mid": song["mid"], "mlid": playlist["mlid"]})
    expect("music playlist entry", answer, lambda a: a.get("code") == 0)


def seed_transit(token):
    def create(what, body):
        answer = session.post(f"{BASE}/transit/api/manage/{what}/create", params={"token": token}, json=body)
        return expect(f"transit {what}", answer, lambda a: a.get("code") == 2000)

    create("station", {"station_id": 1, "station_name": "Sta1", "station_route": "1", "admin_area": "central"})
    create("station", {"station_id": 2, "station_name": "Sta2", "station_route": "1", "admin_area": "north"})
    create("passenger", {"passenger_id": "p0001", "birth": 1980, "gender": 1, "dist": 3})
    create("workday", {"date": "2020-07-15", "date_class": 1})
    create("trip", {
        "user_id": "p0001", "in_station": "Sta1", "in_station_time": "2020-07-15 08:01:02",
        "out_station": "Sta2", "out_station_time": "2020-07-15 08:31:02", "channel": 1, "price": 3,
    })


def spare_user(system):
    """An account the run may edit and delete: never the one it is logged in as."""
    auth = {"Authorization": f"Bearer {system}"}
    user = {"name": "spare", "loginname": "spare_user", "password": "Spare-Pass-1"}
    answer = session.post(f"{BASE}/system/api/auth/user/save", headers=auth, json=user)
    return expect("spare user", answer, lambda a: a.get("code") == 0)["data"]


def seed_open(system):
    auth = {"Authorization": f"Bearer {system}"}
    app = {"name": "partner", "scopes": ["care:read", "transit:read", "music:read"]}
    answer = session.post(f"{BASE}/system/api/open/app/save", headers=auth, json=app)
    created = expect("open app", answer, lambda a: a.get("code") == 0)["data"]
    answer = session.post(f"{BASE}/open/api/token", json={"appId": created["appId"], "appSecret": created["appSecret"]})
    return expect("open token", answer, lambda a: a.get("code") == 1)["data"]["token"]


def main():
    system = system_token()
    music = music_token()
    transit = transit_token()
    care_token, device, event = seed_care()
    seed_music(music)
    seed_transit(transit)
    found = {
        "HEARTH_SYSTEM_TOKEN": system,
        "HEARTH_SYSTEM_SPARE_USER": spare_user(system),
        "HEARTH_MUSIC_TOKEN": music,
        "HEARTH_TRANSIT_TOKEN": transit,
        "HEARTH_CARE_TOKEN": care_token,
        "HEARTH_CARE_DEVICE": device,
        "HEARTH_CARE_EVENT": event,
        "HEARTH_OPEN_TOKEN": seed_open(system),
    }
    for name, value in found.items():
        print(f"{name}={value}")


main()
