# -*- coding: utf-8 -*-
"""Produce or consume one record as a SCRAM user over SASL_SSL (verify.yml).

Arguments: produce|consume TOPIC [GROUP]. Connection settings come from the
environment, so the password never is on a command line:
SECURE_BOOTSTRAP (comma separated), SECURE_CAFILE, SECURE_USERNAME,
SECURE_PASSWORD. Prints one JSON object, never the password:
{"outcome": "ok" | <kafka-python exception class>, "values": [...]}.
"""

import json
import os
import sys

from kafka import KafkaConsumer, KafkaProducer

TIMEOUT_MS = 8000


def connection():
    return dict(bootstrap_servers=os.environ['SECURE_BOOTSTRAP'].split(','),
                security_protocol='SASL_SSL', sasl_mechanism='SCRAM-SHA-512',
                sasl_plain_username=os.environ['SECURE_USERNAME'],
                sasl_plain_password=os.environ['SECURE_PASSWORD'],
                ssl_cafile=os.environ['SECURE_CAFILE'], ssl_check_hostname=True)


def produce(topic):
    producer = KafkaProducer(acks='all', retries=0, max_block_ms=TIMEOUT_MS, request_timeout_ms=TIMEOUT_MS,
                             bootstrap_timeout_ms=TIMEOUT_MS, **connection())
    try:
        producer.send(topic, b'secure-hello').get(timeout=TIMEOUT_MS / 1000.0)
        return []
    finally:
        producer.close(timeout=5)


def consume(topic, group):
    consumer = KafkaConsumer(topic, group_id=group, auto_offset_reset='earliest', enable_auto_commit=False,
                             consumer_timeout_ms=TIMEOUT_MS, request_timeout_ms=TIMEOUT_MS,
                             bootstrap_timeout_ms=TIMEOUT_MS, **connection())
    try:
        values = [record.value.decode('utf-8', 'replace') for record in consumer]
        consumer.commit()
        return values
    finally:
        consumer.close()


def main():
    action, topic = sys.argv[1], sys.argv[2]
    try:
        values = produce(topic) if action == 'produce' else consume(topic, sys.argv[3])
        result = {'outcome': 'ok', 'values': values}
    except Exception as exc:  # the class name is the verdict verify.yml checks
        result = {'outcome': type(exc).__name__, 'values': []}
    print(json.dumps(result))


if __name__ == '__main__':
    main()
