#!/usr/bin/env python3
"""A small Confluent-API-compatible schema registry, the tests' stand-in for Confluent's
(which needs a JVM and Kafka, not installable here). It implements the endpoints that
confluent-kafka's SchemaRegistryClient and driftd use:

  POST /subjects/{s}/versions         register (same schema text → same id)
  POST /subjects/{s}                  look a schema up under a subject
  GET  /subjects/{s}/versions/latest  and /versions/{n}
  GET  /subjects/{s}/versions         version numbers
  GET  /schemas/ids/{id}              the schema of an id (404, error_code 40403, if unknown)
  GET  /subjects                      subject names

Schemas are kept in a JSON file (--store) so that a restarted registry knows them. It prints
`listening on PORT` once bound (--port 0 picks a free port).
"""
import argparse
import json
import os
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Store:
    def __init__(self, path):
        self.path = path
        self.schemas = []  # [{"id", "schema", "schemaType", "references"}]
        self.subjects = {}  # subject -> [id, ...] (version n is index n-1)
        if path and os.path.exists(path):
            with open(path) as f:
                data = json.load(f)
            self.schemas, self.subjects = data["schemas"], data["subjects"]

    def save(self):
        if self.path:
            tmp = self.path + ".tmp"
            with open(tmp, "w") as f:
                json.dump({"schemas": self.schemas, "subjects": self.subjects}, f)
            os.replace(tmp, self.path)

    def find(self, schema, schema_type):
        for s in self.schemas:
            if s["schema"] == schema and s["schemaType"] == schema_type:
                return s
        return None

    def register(self, subject, schema, schema_type, references):
        found = self.find(schema, schema_type)
        if found is None:
            found = {"id": len(self.schemas) + 1, "schema": schema, "schemaType": schema_type,
                     "references": references}
            self.schemas.append(found)
        versions = self.subjects.setdefault(subject, [])
        if found["id"] not in versions:
            versions.append(found["id"])
        self.save()
        return found["id"]

    def by_id(self, schema_id):
        return next((s for s in self.schemas if s["id"] == schema_id), None)


def version_body(store, subject, version):
    ids = store.subjects[subject]
    s = store.by_id(ids[version - 1])
    body = {"subject": subject, "version": version, "id": s["id"], "schema": s["schema"],
            "references": s["references"]}
    if s["schemaType"] != "AVRO":
        body["schemaType"] = s["schemaType"]
    return body


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("registry: " + (fmt % args) + "\n")

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def not_found(self, code, message):
        self.reply(404, {"error_code": code, "message": message})

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def do_GET(self):
        store = self.server.store
        path = self.path.split("?")[0]
        if m := re.fullmatch(r"/schemas/ids/(\d+)", path):
            s = store.by_id(int(m[1]))
            if s is None:
                return self.not_found(40403, "Schema not found")
            body = {"schema": s["schema"], "references": s["references"]}
            if s["schemaType"] != "AVRO":
                body["schemaType"] = s["schemaType"]
            return self.reply(200, body)
        if path == "/subjects":
            return self.reply(200, sorted(store.subjects))
        if m := re.fullmatch(r"/subjects/([^/]+)/versions", path):
            if m[1] not in store.subjects:
                return self.not_found(40401, "Subject not found")
            return self.reply(200, list(range(1, len(store.subjects[m[1]]) + 1)))
        if m := re.fullmatch(r"/subjects/([^/]+)/versions/(latest|-1|\d+)", path):
            subject = m[1]
            if subject not in store.subjects:
                return self.not_found(40401, "Subject not found")
            n = len(store.subjects[subject]) if m[2] in ("latest", "-1") else int(m[2])
            if not 1 <= n <= len(store.subjects[subject]):
                return self.not_found(40402, "Version not found")
            return self.reply(200, version_body(store, subject, n))
        self.not_found(404, "Not found")

    def do_POST(self):
        store = self.server.store
        path = self.path.split("?")[0]
        body = self.body()
        schema_type = body.get("schemaType") or "AVRO"
        if m := re.fullmatch(r"/subjects/([^/]+)/versions", path):
            schema_id = store.register(m[1], body["schema"], schema_type, body.get("references") or [])
            return self.reply(200, {"id": schema_id})
        if m := re.fullmatch(r"/subjects/([^/]+)", path):
            subject = m[1]
            s = store.find(body["schema"], schema_type)
            if subject not in store.subjects:
                return self.not_found(40401, "Subject not found")
            if s is None or s["id"] not in store.subjects[subject]:
                return self.not_found(40403, "Schema not found")
            return self.reply(200, version_body(store, subject, store.subjects[subject].index(s["id"]) + 1))
        self.not_found(404, "Not found")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--store", default=None)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.store = Store(args.store)
    print(f"listening on {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
