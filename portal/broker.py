"""Celery's filesystem broker (the embedded default: ``make run`` and the tests), with each message
written whole before a worker can see it, polled from the worker's event loop.

kombu's filesystem transport creates a message file under its final name and then writes it, so
a worker polling the folder can take a file that is still empty or half-written and die on its
JSON (celery/kombu#1551: ``make run`` stopped by itself after some minutes). Here a message is
written under a name the reader never takes (``.partial-…``) and renamed into place, which is
atomic within one file system: a ``….msg`` file is either absent or complete.

kombu's transport also says it has no event loop, so a Celery worker runs it with billiard's threaded
pool, whose children share one job pipe behind one lock (a semaphore): the child waiting for the next
job holds it while it reads. SIGKILLed there (while a sibling runs a plan-change step, say), that child
never gives it back; every child after it waits on it for ever, and the worker goes on taking messages
and running none (issue 21). Here the transport polls from the event loop instead (``asynchronous``),
so the worker runs Celery's own pool, as on Redis: a pipe per child and nothing shared, and a killed
child's job is rejected and redelivered (acks late, reject on worker lost)."""

import os
import uuid
from queue import Empty
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        """Put ``payload`` onto ``queue``: written aside, then renamed to the name kombu's reader looks for."""
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        partial = os.path.join(self.data_folder_out, f".partial-{uuid.uuid4()}")
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, os.path.join(self.data_folder_out, name))
        except OSError as exc:
            raise ChannelError(f"Cannot add file {name!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
    implements = filesystem.Transport.implements.extend(asynchronous=True)

    def register_with_event_loop(self, connection, loop):
        """A worker's event loop polls the folder every ``polling_interval`` (as the blocking loop did)."""
        self._poll_entry = loop.call_repeatedly(self.polling_interval, self._deliver_waiting)

    def unregister_from_event_loop(self, connection, loop):
        entry = getattr(self, "_poll_entry", None)
        if entry is not None:
            entry.cancel()

    def _deliver_waiting(self) -> None:
        """Hand the consumers every message waiting now, as far as their prefetch allows; never sleep."""
        while True:
            try:
                self.cycle.get(self._deliver, timeout=0)
            except Empty:
                return


# "filesystem://" means this transport in every process that loads the portal (web, worker, beat).
TRANSPORT_ALIASES["filesystem"] = "portal.broker:Transport"
