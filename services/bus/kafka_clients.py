"""Kafka clients built from Settings: only standard Kafka features, since production runs Apache Kafka.

None of them ever asks the broker to create a topic: only the relay creates topics (with the configured
partitions), so a broker that lost them shows as missing topics instead of empty look-alikes. Apache Kafka
also needs `auto.create.topics.enable=false` on the broker (deploy/compose.yaml sets it).
"""

from __future__ import annotations

from typing import Any

from services.settings import Settings


def producer(settings: Settings) -> Any:
    from kafka import KafkaProducer

    return KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, acks="all", enable_idempotence=True,
        allow_auto_create_topics=False,
        linger_ms=5, batch_size=256 * 1024, max_in_flight_requests_per_connection=5,
        # give up on a batch within 15 s, so a broker outage shows as "retrying" rather than a hang
        delivery_timeout_ms=15_000, request_timeout_ms=5_000, max_block_ms=10_000, bootstrap_timeout_ms=10_000,
    )


def admin(settings: Settings) -> Any:
    from kafka import KafkaAdminClient

    return KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, request_timeout_ms=10_000)



def reader(settings: Settings) -> Any:
    """A group-less consumer that reads single records (the relay confirms a suspected loss with it)."""
    from kafka import KafkaConsumer

    return KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False,
                         auto_offset_reset="none", allow_auto_create_topics=False, fetch_max_wait_ms=50,
                         request_timeout_ms=10_000)


def consumer(settings: Settings, group: str | None = None) -> Any:
    from kafka import KafkaConsumer

    return KafkaConsumer(
        settings.kafka_topic_works_items, settings.kafka_topic_projects,
        bootstrap_servers=settings.kafka_bootstrap, group_id=group or settings.kafka_group,
        enable_auto_commit=False, auto_offset_reset="earliest", allow_auto_create_topics=False,
        # a fetch returns within 20 ms when there is nothing new (Tansu waits out the whole fetch_max_wait_ms),
        # and topics the relay recreates after a broker loss are seen within 5 s
        fetch_max_wait_ms=20, metadata_max_age_ms=5_000,
        # the group's rebalance delay follows max_poll_interval_ms on Tansu; keep it short
        max_poll_interval_ms=10_000, session_timeout_ms=10_000, heartbeat_interval_ms=1_000,
    )


def topics(settings: Settings) -> dict[str, str]:
    return {"works_item": settings.kafka_topic_works_items, "project": settings.kafka_topic_projects}
