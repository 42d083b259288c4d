"""Huey tasks of the cards app: batch generation in the background, the daily tick."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task

from laoke.core import clock

from .services import card_batch_generate, cards_tick


@db_task()
def cards_batch_generate_task(batch_id: int):
    with lock_task(f"cards-batch-{batch_id}"):
        card_batch_generate(batch_id=batch_id)


@db_periodic_task(crontab(minute="7"))
def cards_tick_periodic():
    return cards_tick(clock.now())
