"""Celery's filesystem broker (the embedded default: ``make run`` and the tests), with each message
written whole before a worker can see it.

kombu's filesystem transport creates a message file under its final name and then writes it, so
a worker polling the folder can take a file that is still empty or half-written and die on its
JSON (celery/kombu#1551: ``make run`` stopped by itself after some minutes). Here a message is
written under a name the reader never takes (``.partial-…``) and renamed into place, which is
atomic within one file system: a ``….msg`` file is either absent or complete."""

import os
import uuid
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


# "filesystem://" means this transport in every process that loads the portal (web, worker, beat).
TRANSPORT_ALIASES["filesystem"] = "portal.broker:Transport"
