"""The base of every project event, apart from the aggregate so its parts (domain/completion.py) can extend it."""

from __future__ import annotations

from typing import ClassVar

from eventsourcing.utils import register_topic

from domain.chain import ChainedEvent


class ProjectEvent(ChainedEvent):
    TOPIC_PREFIX: ClassVar[str] = "siteledger.project"
    TOPIC = "siteledger.project:Event"


register_topic(ProjectEvent.TOPIC, ProjectEvent)
