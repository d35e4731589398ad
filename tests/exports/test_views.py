"""/exports/latest/: the newest nightly package and its files, cacheable."""

import json

from chronicle.exports import packages


def test_before_any_package_the_address_answers_a_json_404(client, exports_root):
    response = client.get("/exports/latest/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_latest_package_is_served_with_validators_and_content_types(client, publish, exports_root):
    publish("one")
    packages.write_nightly()
    response = client.get("/exports/latest/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    descriptor = json.loads(b"".join(response.streaming_content))
    assert descriptor["chronicle"]["position"] > 0
    # Relative paths in the descriptor resolve under /exports/latest/.
    types = {}
    for resource in descriptor["resources"]:
        answer = client.get(f"/exports/latest/{resource['path']}")
        assert answer.status_code == 200, resource["path"]
        types[resource["path"]] = answer["Content-Type"]
    assert types["developments.csv"].startswith("text/csv")
    assert types["developments.ndjson"] == "application/x-ndjson"
    assert types["events.ndjson.gz"] == "application/gzip"

    etag, modified = response["ETag"], response["Last-Modified"]
    assert client.get("/exports/latest/", headers={"if-none-match": etag}).status_code == 304
    assert client.get("/exports/latest/datapackage.json", headers={"if-modified-since": modified}).status_code == 304


def test_a_newer_package_changes_the_etag(client, publish, exports_root):
    from datetime import timedelta

    from django.utils import timezone

    publish("one")
    packages.write_nightly(timezone.now() - timedelta(hours=1))
    first = client.get("/exports/latest/developments.csv")["ETag"]
    publish("two")
    packages.write_nightly()
    second = client.get("/exports/latest/developments.csv", headers={"if-none-match": first})
    assert second.status_code == 200
    assert second["ETag"] != first
    assert b"two" in b"".join(second.streaming_content)


def test_only_the_package_files_are_served(client, publish, exports_root):
    publish("one")
    packages.write_nightly()
    for name in ("../../settings.py", "secret.txt", ".developments.csv.tmp"):
        response = client.get(f"/exports/latest/{name}")
        assert response.status_code == 404, name
    assert client.post("/exports/latest/").status_code == 405


def test_the_timeline_and_the_api_docs_point_to_the_latest_package(client, db):
    assert 'href="/exports/latest/"' in client.get("/").content.decode()
    assert "/exports/latest/" in client.get("/api/schema/", headers={"accept": "application/json"}).content.decode()
