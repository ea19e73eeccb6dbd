"""Celery tasks of the portal itself."""

from celery import shared_task

from portal.workers import BEAT_TASK, worker_beat_record, worker_beats_forget


@shared_task(name=BEAT_TASK, bind=True, ignore_result=True)
def worker_beat(self) -> str:
    """Beat's heartbeat, sent to each queue: the worker that runs it answers for the queue it came by."""
    queue = (self.request.delivery_info or {}).get("routing_key") or "celery"
    worker_beat_record(hostname=self.request.hostname, queue=queue)
    worker_beats_forget()
    return queue
