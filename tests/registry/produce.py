#!/usr/bin/env python3
"""Produces JSON events to Kafka as Avro through confluent-kafka's real serializer: its
AvroSerializer with a SchemaRegistryClient (which registers the schema under the topic's
`<topic>-value` subject), so the messages carry the Confluent wire format exactly as
production clients write it. Used by tests/kafka_formats.rs and examples/kafka-avro/.

  produce.py --brokers HOST:PORT --registry URL --topic T --schema S.avsc EVENTS.jsonl

Events are the quickstart's JSON objects; each is mapped onto the schema: fields the schema
lacks are left out, RFC 3339 text becomes a timestamp-millis, numbers become decimals.
"""
import argparse
import datetime
import decimal
import json

from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext


def convert(value, schema, named):
    """`value` (from JSON) as fastavro expects it for `schema`."""
    if isinstance(schema, str):
        return convert(value, named[schema], named) if schema in named else value
    if isinstance(schema, list):  # a union: the first branch that takes the value
        if value is None:
            return None
        branch = next(s for s in schema if s != "null")
        return convert(value, branch, named)
    kind, logical = schema["type"], schema.get("logicalType")
    if kind in ("record", "enum", "fixed"):
        named[schema["name"]] = schema
    if kind == "record":
        return {f["name"]: convert(value[f["name"]], f["type"], named)
                for f in schema["fields"] if f["name"] in value}
    if logical == "timestamp-millis" and isinstance(value, str):
        when = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return round(when.timestamp() * 1000)
    if logical == "decimal":
        return decimal.Decimal(repr(value))
    if isinstance(kind, (dict, list)):
        return convert(value, kind, named)
    return value


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--brokers", required=True)
    parser.add_argument("--registry", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--schema", required=True)
    parser.add_argument("events")
    args = parser.parse_args()
    schema_text = open(args.schema).read()
    schema = json.loads(schema_text)
    registry = SchemaRegistryClient({"url": args.registry})
    serializer = AvroSerializer(registry, schema_text, conf={"auto.register.schemas": True})
    producer = Producer({"bootstrap.servers": args.brokers, "linger.ms": 5})
    context = SerializationContext(args.topic, MessageField.VALUE)
    count = 0
    with open(args.events) as f:
        for line in f:
            if not line.strip():
                continue
            record = convert(json.loads(line), schema, {})
            producer.produce(args.topic, value=serializer(record, context))
            producer.poll(0)
            count += 1
    left = producer.flush(30)
    if left:
        raise SystemExit(f"{left} messages not delivered")
    print(f"produced {count} messages to {args.topic}")


if __name__ == "__main__":
    main()
