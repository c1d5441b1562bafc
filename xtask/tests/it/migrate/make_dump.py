"""Writes an old-Mumble dump the way MongoDB's own tools would, with pymongo's `bson` and
`json_util` (the format's reference implementation), plus the uploads folder it refers to.

usage: make_dump.py OUT FORMAT SCENARIO
  FORMAT    bson | bson-gz | json-canonical | json-relaxed
  SCENARIO  base | changed   (changed: the base after a day of the old site still running)
  writes OUT/dump/... and OUT/uploads/images/*.png
"""

import datetime
import gzip
import json
import os
import struct
import sys
import zlib

import bson
from bson import json_util
from bson.objectid import ObjectId


def oid(n):
    return ObjectId("5f1d7a3e9b1e8a2f3c4d%04x" % n)


def at(day, hour=12):
    return datetime.datetime(2021, 3, day, hour, 0, 0, tzinfo=datetime.timezone.utc)


def png(width, height, rgb):
    """A solid-colour RGB PNG, written by hand so the fixture needs nothing but the stdlib."""

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    row = b"\x00" + bytes(rgb) * width
    raw = row * height
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def users(scenario):
    docs = [
        # U1: clean, every field
        {"_id": oid(1), "email": "ada@example.org", "passwordHash": "$2b$10$abcdefghijklmnopqrstuv",
         "displayName": "Ada", "language": "en", "createdAt": at(1), "updatedAt": at(2),
         "location": {"lat": 39.9, "lon": 116.4}},
        # U2: the same person, e-mail differing only in case, signed up again later: merged into U1
        {"_id": oid(2), "email": " Ada@Example.ORG", "passwordHash": "$2b$10$x", "createdAt": at(5)},
        # U3: no displayName, no language, createdAt as text
        {"_id": oid(3), "email": "li@example.cn", "passwordHash": "$2b$10$y",
         "createdAt": "2021-03-03 04:05:06"},
        # U4: createdAt as epoch milliseconds, language zh
        {"_id": oid(4), "email": "wang@example.cn", "language": "zh", "passwordHash": "$2b$10$z",
         "createdAt": int(at(4).timestamp() * 1000)},
        # U5: no e-mail: rejected
        {"_id": oid(5), "passwordHash": "$2b$10$w", "createdAt": at(5)},
        # U6: an e-mail that is not one: rejected
        {"_id": oid(6), "email": "not-an-address", "createdAt": at(6)},
        # U7: no createdAt (the ObjectId dates it)
        {"_id": oid(7), "email": "bob@example.com", "displayName": "  Bob  "},
    ]
    if scenario == "changed":
        docs[2]["displayName"] = "Li Lei"
        docs[2]["updatedAt"] = at(20)
    return docs


def images(scenario):
    weather = {"description": "light rain", "temperature": 12.5, "location": "Beijing"}
    docs = [
        # I1: clean, with its file
        {"_id": oid(101), "userId": oid(1), "transcription": "a cat on a roof", "prompt": "a cat",
         "imagePath": "images/101.png", "audioPath": "audio/101.webm", "weather": weather,
         "createdAt": at(1, 13)},
        # I2: owned by U2, who is merged into U1: it follows
        {"_id": oid(102), "userId": oid(2), "transcription": "rain", "prompt": "rain",
         "imagePath": "images/102.png", "createdAt": at(5, 13)},
        # I3: only an expired OpenAI URL: unavailable
        {"_id": oid(103), "userId": oid(3), "transcription": "sea", "prompt": "the sea",
         "imageUrl": "https://oaidalleapiprodscus.blob.core.windows.net/private/img-103.png",
         "createdAt": at(3, 13)},
        # I4: the file is gone: unavailable
        {"_id": oid(104), "userId": oid(3), "transcription": "hill", "prompt": "a hill",
         "imagePath": "images/gone.png", "createdAt": at(3, 14)},
        # I5: temperature as text, createdAt as text, transcription as a number
        {"_id": oid(105), "userId": oid(4), "transcription": 12345, "prompt": "numbers",
         "imagePath": "images/105.png",
         "weather": {"description": "晴", "temperature": "21.5", "location": "上海"},
         "createdAt": "2021-03-04T10:00:00Z"},
        # I6: its user no longer exists: rejected
        {"_id": oid(106), "userId": oid(99), "transcription": "orphan", "prompt": "orphan",
         "imagePath": "images/106.png", "createdAt": at(6)},
        # I7: no userId at all: rejected
        {"_id": oid(107), "transcription": "nobody", "createdAt": at(7)},
        # I8: soft-deleted before the move: not migrated
        {"_id": oid(108), "userId": oid(1), "transcription": "deleted", "prompt": "deleted",
         "imagePath": "images/108.png", "deleted": True, "createdAt": at(8)},
        # I9: a path written with a leading /uploads/
        {"_id": oid(109), "userId": oid(7), "transcription": "bob", "prompt": "bob",
         "imagePath": "/uploads/images/109.png", "createdAt": at(9)},
        # I10: the file is there but is not an image: unavailable
        {"_id": oid(110), "userId": oid(1), "transcription": "broken", "prompt": "broken",
         "imagePath": "images/110.png", "createdAt": at(10)},
        # I11: a path that leaves the uploads folder: unavailable, never read
        {"_id": oid(111), "userId": oid(4), "transcription": "escape", "prompt": "escape",
         "imagePath": "../secret.png", "createdAt": at(11)},
    ]
    if scenario == "changed":
        docs[0]["prompt"] = "a cat, in watercolour"
        docs[0]["updatedAt"] = at(20)
        docs[4]["deleted"] = True  # I5 soft-deleted since the last run
        docs[4]["updatedAt"] = at(20)
        docs.append({"_id": oid(112), "userId": oid(3), "transcription": "new", "prompt": "new",
                     "imagePath": "images/112.png", "createdAt": at(21)})
    return docs


# A document whose framing is right (its length counts itself) but whose content is not BSON
# (element type 0x7a).
_CORRUPT_BODY = b"\x7ax\x00\x01\x02\x03\x00"
CORRUPT_BSON = struct.pack("<i", 4 + len(_CORRUPT_BODY)) + _CORRUPT_BODY


def write_collection(dump, name, docs, fmt):
    if fmt.startswith("bson"):
        folder = os.path.join(dump, "mumble")
        os.makedirs(folder, exist_ok=True)
        data = b"".join(bson.encode(d) for d in docs)
        if name == "images":
            data = data[: len(bson.encode(docs[0]))] + CORRUPT_BSON + data[len(bson.encode(docs[0])):]
        path = os.path.join(folder, name + ".bson")
        meta = {"options": {}, "indexes": [{"v": 2, "key": {"_id": 1}, "name": "_id_"}],
                "uuid": "00000000000000000000000000000000", "collectionName": name}
        if fmt == "bson-gz":
            with gzip.open(path + ".gz", "wb") as out:
                out.write(data)
            with gzip.open(os.path.join(folder, name + ".metadata.json.gz"), "wt") as out:
                json.dump(meta, out)
        else:
            with open(path, "wb") as out:
                out.write(data)
            with open(os.path.join(folder, name + ".metadata.json"), "w") as out:
                json.dump(meta, out)
    else:
        mode = json_util.CANONICAL_JSON_OPTIONS if fmt == "json-canonical" else json_util.RELAXED_JSON_OPTIONS
        os.makedirs(dump, exist_ok=True)
        with open(os.path.join(dump, name + ".json"), "w", encoding="utf-8") as out:
            for i, d in enumerate(docs):
                out.write(json_util.dumps(d, json_options=mode, ensure_ascii=False) + "\n")
                if i == 0 and name == "images":
                    out.write("{not json at all\n")


def main():
    out, fmt, scenario = sys.argv[1:4]
    dump = os.path.join(out, "dump")
    uploads = os.path.join(out, "uploads", "images")
    os.makedirs(uploads, exist_ok=True)
    write_collection(dump, "users", users(scenario), fmt)
    write_collection(dump, "images", images(scenario), fmt)
    colours = {101: (200, 30, 30), 102: (30, 200, 30), 105: (30, 30, 200), 106: (9, 9, 9),
               108: (1, 2, 3), 109: (250, 250, 0), 112: (0, 250, 250)}
    for n, rgb in colours.items():
        with open(os.path.join(uploads, "%d.png" % n), "wb") as f:
            f.write(png(64 + n % 7, 48, rgb))
    with open(os.path.join(uploads, "110.png"), "wb") as f:
        f.write(b"this was never a picture")
    with open(os.path.join(out, "uploads", "..", "secret.png"), "wb") as f:
        f.write(png(8, 8, (1, 1, 1)))


if __name__ == "__main__":
    main()
