"""Zero-loss load tool: proves that an operation on a running cluster drops no write.

An idempotent producer with acks=all writes sequence-numbered records at a
steady rate to a topic with replication factor 3 and min.insync.replicas=2
while the operation runs. When told to stop, it flushes, then a consumer
reads the whole topic back and the tool reports, as one JSON object:

  acknowledged  records the cluster acknowledged
  lost          acknowledged but never read back
  duplicated    sequence numbers read more than once
  producer_errors  sends that failed after all retries (not acknowledged)
  max_stall_s   longest time without any acknowledgement while sending

usage:
  python tests/load/zero_loss.py --bootstrap h1:9092,h2:9092 --topic t [--rate 200]
               (--duration 60 | --stop-file PATH) [--report out.json]
"""
import argparse
import json
import os
import signal
import sys
import threading
import time
import uuid

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bootstrap", required=True, help="comma-separated host:port list")
    parser.add_argument("--topic", default="zero-loss-%s" % uuid.uuid4().hex[:8])
    parser.add_argument("--rate", type=float, default=200.0, help="records per second")
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--duration", type=float, help="seconds to produce")
    parser.add_argument("--stop-file", help="produce until this file exists")
    parser.add_argument("--max-duration", type=float, default=1800.0, help="hard upper bound, seconds")
    parser.add_argument("--report", help="also write the JSON report here")
    parser.add_argument("--ready-file", help="touched once the first record is acknowledged")
    args = parser.parse_args(argv)
    if args.duration is None and args.stop_file is None:
        parser.error("give --duration or --stop-file")
    return args


def ensure_topic(bootstrap, topic, partitions):
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="zero-loss-admin")
    try:
        admin.create_topics([NewTopic(topic, partitions, 3, topic_configs={"min.insync.replicas": "2"})])
    except TopicAlreadyExistsError:
        pass
    finally:
        admin.close()


class AckTracker(object):
    """Collects acknowledgements and failures from producer callbacks (I/O thread)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked = set()
        self.errors = []
        self.last_ack = None
        self.max_stall = 0.0

    def on_ack(self, seq):
        now = time.monotonic()
        with self.lock:
            self.acked.add(seq)
            if self.last_ack is not None:
                self.max_stall = max(self.max_stall, now - self.last_ack)
            self.last_ack = now

    def on_error(self, seq, exc):
        with self.lock:
            self.errors.append({"seq": seq, "error": repr(exc)})


def should_stop(args, started, stop_flag):
    elapsed = time.monotonic() - started
    if stop_flag.is_set() or elapsed >= args.max_duration:
        return True
    if args.duration is not None and elapsed >= args.duration:
        return True
    return bool(args.stop_file and os.path.exists(args.stop_file))


def produce(args, tracker, stop_flag):
    producer = KafkaProducer(
        bootstrap_servers=args.bootstrap, acks="all", enable_idempotence=True,
        retries=2 ** 31 - 1, delivery_timeout_ms=300000, request_timeout_ms=30000,
        max_in_flight_requests_per_connection=5, linger_ms=5, client_id="zero-loss-producer",
    )
    interval = 1.0 / args.rate
    started = time.monotonic()
    seq = 0
    ready_written = False
    while not should_stop(args, started, stop_flag):
        payload = json.dumps({"seq": seq, "ts": time.time()}).encode()
        future = producer.send(args.topic, key=str(seq).encode(), value=payload)
        future.add_callback(lambda _meta, s=seq: tracker.on_ack(s))
        future.add_errback(lambda exc, s=seq: tracker.on_error(s, exc))
        seq += 1
        if args.ready_file and not ready_written and tracker.acked:
            open(args.ready_file, "w").close()
            ready_written = True
        # Pace by schedule, not by sleeping a fixed interval after each send,
        # so a slow send does not lower the offered rate afterwards.
        delay = started + seq * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    producer.flush(timeout=300)
    producer.close(timeout=60)
    return seq, time.monotonic() - started


def read_back(bootstrap, topic):
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, client_id="zero-loss-consumer")
    partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    end_offsets = consumer.end_offsets(partitions)
    counts = {}
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if all(consumer.position(tp) >= end_offsets[tp] for tp in partitions):
            break
        for records in consumer.poll(timeout_ms=1000, max_records=5000).values():
            for record in records:
                seq = json.loads(record.value)["seq"]
                counts[seq] = counts.get(seq, 0) + 1
    consumer.close()
    return counts


def summarize(acked, counts, errors, max_stall):
    """The verdict: acked is the set of acknowledged sequence numbers, counts
    maps each sequence number read back to how often it was read.

    lost: acknowledged but never read. duplicated: read more than once
    (whether acknowledged or not: an unacknowledged write that landed twice is
    a duplicate too). A record read but never acknowledged (its ack was lost
    with a connection) is neither.
    """
    return {
        "acknowledged": len(acked),
        "lost": len([s for s in acked if s not in counts]),
        "duplicated": len([s for s, n in counts.items() if n > 1]),
        "read": sum(counts.values()),
        "producer_errors": len(errors),
        "first_errors": list(errors[:5]),
        "max_stall_s": round(max_stall, 3),
    }


def main(argv=None):
    args = parse_args(argv if argv is not None else sys.argv[1:])
    stop_flag = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop_flag.set())
    signal.signal(signal.SIGINT, lambda *_: stop_flag.set())

    ensure_topic(args.bootstrap.split(","), args.topic, args.partitions)
    tracker = AckTracker()
    sent, elapsed = produce(args, tracker, stop_flag)
    counts = read_back(args.bootstrap.split(","), args.topic)

    report = summarize(tracker.acked, counts, tracker.errors, tracker.max_stall)
    report.update({"topic": args.topic, "sent": sent, "duration_s": round(elapsed, 1), "rate_target": args.rate})
    text = json.dumps(report, sort_keys=True)
    print(text)
    if args.report:
        with open(args.report, "w") as handle:
            handle.write(text + "\n")
    return 0 if report["lost"] == 0 and report["duplicated"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
