"""The embedded broker (Celery's filesystem transport) hands a worker only whole messages: kombu's own
writes a message file in place, and a worker polling the folder took one half-written and died on its
JSON (``make run`` stopped by itself after some minutes; celery/kombu#1551)."""

import threading
from queue import Empty

import pytest
from kombu import Connection, Exchange, Queue
from kombu.transport import filesystem as kombu_filesystem

from portal import broker

MESSAGES = 40
BIG = "x" * 4_000_000  # a message large enough that writing it takes many system calls' time


def poll_while_writing(channel_class, folder) -> list[Exception]:
    """Put MESSAGES big messages on a queue while a reader takes them as a worker does; the reader's errors."""
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder), "store_processed": False}
    with Connection("filesystem://", transport_options=options) as writer_connection, \
            Connection("filesystem://", transport_options=options) as reader_connection:
        writer, reader = channel_class(writer_connection.transport), channel_class(reader_connection.transport)
        errors, taken, done = [], [], threading.Event()

        def read():
            while not done.is_set() or len(taken) < MESSAGES:
                try:
                    taken.append(reader._get("q")["n"])
                except Empty:
                    continue
                except Exception as exc:  # what a worker dies of
                    errors.append(exc)
                    return

        thread = threading.Thread(target=read)
        thread.start()
        for n in range(MESSAGES):
            writer._put("q", {"n": n, "body": BIG})
        done.set()
        thread.join(timeout=120)
        if not errors:
            assert sorted(taken) == list(range(MESSAGES)), "every message taken exactly once"
        return errors


def test_a_worker_never_takes_a_half_written_message(tmp_path):
    assert poll_while_writing(broker.Channel, tmp_path) == []
    assert [p.name for p in tmp_path.iterdir()] == []  # nothing left behind, not even a partial file


@pytest.mark.parametrize("attempt", range(3))
def test_kombus_own_transport_does_hand_out_half_written_messages(tmp_path, attempt):
    """The control: the same race with kombu's channel fails at least sometimes (so the test above can)."""
    errors = poll_while_writing(kombu_filesystem.Channel, tmp_path)
    if not errors:
        pytest.skip("the race didn't show this time")
    assert "JSON" in type(errors[0]).__name__ or "Expecting" in str(errors[0]) or "Unterminated" in str(errors[0])


def test_a_worker_polls_it_from_its_event_loop(tmp_path):
    """So the worker runs Celery's own pool, a pipe per child, not billiard's pipe shared behind a lock
    that a killed child keeps (issue 21; tests/portal/test_worker_lost.py kills one)."""
    from kombu.asynchronous import Hub

    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path), "store_processed": False}
    with Connection("filesystem://", transport_options=options) as connection:
        assert connection.is_evented
        channel, taken = connection.channel(), []
        queue = Queue("q", Exchange("q", type="direct"), "q", channel=channel)
        queue.declare()
        for n in range(3):
            connection.Producer(channel).publish({"n": n}, exchange=queue.exchange, routing_key="q")
        with connection.Consumer(queue, callbacks=[lambda body, message: taken.append(body["n"]) or message.ack()]):
            hub = Hub()
            connection.transport.register_with_event_loop(connection.connection, hub)
            hub.fire_timers(min_delay=0, max_delay=0)  # nothing yet: the first poll is a polling interval away
            assert taken == []
            [entry] = hub.timer.queue
            entry.entry()  # the poll the loop makes each polling interval: every waiting message, no sleep
            assert sorted(taken) == [0, 1, 2]
            connection.transport.unregister_from_event_loop(connection.connection, hub)
            assert entry.entry.canceled
