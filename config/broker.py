"""The embedded broker: kombu's filesystem transport, made safe to run for days.

kombu's own transport writes a message straight into its final name (``open`` creates the
empty file, the JSON is written a moment later), and the exchange tables are rewritten in
place. A worker polling every 50 ms sometimes claimed a message file that was still empty or
half written and died on ``JSONDecodeError`` ("Unrecoverable error"), taking ``make run`` with
it after half an hour or so. Here:

- a message is written whole to a temporary file in ``temp_folder`` (outside the folder the
  workers list) and then renamed into place with ``os.replace``: a worker sees a complete
  file or none;
- a worker claims a message by renaming it into ``processed_folder`` (atomic on one file
  system, so two workers never both take it), and a file that still cannot be parsed (left
  by an older writer, or a disk that filled up) is moved to ``bad_folder`` and logged instead
  of stopping the worker;
- exchange tables are rewritten the same way (read-modify-write under a lock file, then
  ``os.replace``), so a reader never sees a truncated table.

Selected in settings by ``CELERY_BROKER_TRANSPORT = "config.broker:Transport"`` whenever the
broker URL is ``filesystem://``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import uuid
from pathlib import Path
from queue import Empty

from kombu.transport import filesystem
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads
from kombu.utils.objects import cached_property

logger = logging.getLogger(__name__)

# A temporary file this old was left by a process that died mid-write; nobody will rename it.
STALE_TEMP_SECONDS = 3600
# Message files are named "<monotonic ms, zero-padded>_<uuid>.<queue>.msg" and read in name
# order; padded to a fixed width the names sort as the numbers do (unpadded, "9999_" sorted
# after "10000_" and the queue was not FIFO when the digit count changed). 16 digits last
# 300,000 years of uptime.
SEQUENCE_DIGITS = 16


def monotonic_ms() -> int:
    return int(round(time.monotonic() * 1000))


def message_name(queue: str, *, now_ms: int | None = None) -> str:
    ms = monotonic_ms() if now_ms is None else now_ms
    return f"{ms:0{SEQUENCE_DIGITS}d}_{uuid.uuid4()}.{queue}.msg"


def message_order(filename: str) -> tuple[int, str]:
    """Sort key of a message file: its sequence number as a number, so files named before the
    padding (unpadded digits) still take their turn among padded ones."""
    sequence = filename.partition("_")[0]
    return (int(sequence) if sequence.isdigit() else -1, filename)


def write_atomically(path: Path | str, data: bytes, *, temp_folder: Path | str) -> None:
    """``data`` appears at ``path`` whole or not at all (temp file, fsync, ``os.replace``)."""
    temp = os.path.join(temp_folder, f".{uuid.uuid4().hex}.tmp")
    with open(temp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)


class Channel(filesystem.Channel):
    @cached_property
    def temp_folder(self) -> str:
        folder = self.transport_options.get("temp_folder") or os.path.join(self.data_folder_out, os.pardir, "tmp")
        os.makedirs(folder, exist_ok=True)
        temp_files_prune(folder)
        return folder

    @cached_property
    def bad_folder(self) -> str:
        folder = self.transport_options.get("bad_folder") or os.path.join(self.data_folder_in, os.pardir, "bad")
        os.makedirs(folder, exist_ok=True)
        return folder

    @cached_property
    def claim_folder(self) -> str:
        # Claimed messages are renamed here (the same file system as data_folder_in, so the
        # rename is atomic); kombu's default of the system temp dir may be another one.
        folder = self.processed_folder
        os.makedirs(folder, exist_ok=True)
        return str(folder)

    # --- messages ---------------------------------------------------------------------------

    def _put(self, queue, payload, **kwargs):
        name = message_name(queue)
        try:
            write_atomically(
                os.path.join(self.data_folder_out, name), str_to_bytes(dumps(payload)), temp_folder=self.temp_folder
            )
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot add message {name!r} to {self.data_folder_out}") from exc

    def _get(self, queue):
        wanted = f"{queue}.msg"
        for filename in sorted(os.listdir(self.data_folder_in), key=message_order):
            if filename.partition(".")[2] != wanted:
                continue
            claimed = os.path.join(self.claim_folder, filename)
            try:
                os.rename(os.path.join(self.data_folder_in, filename), claimed)
            except OSError:
                continue  # another worker took it first
            try:
                with open(claimed, "rb") as handle:
                    payload = handle.read()
                message = loads(bytes_to_str(payload))
            except (OSError, ValueError) as exc:
                self._set_aside(claimed, filename, exc)
                continue
            if not self.store_processed:
                with contextlib.suppress(OSError):
                    os.remove(claimed)
            return message
        raise Empty()

    def _set_aside(self, claimed: str, filename: str, exc: Exception) -> None:
        """A message file that cannot be read is kept for a person to look at, never fatal."""
        logger.error("broker: message file %s is unreadable (%s); moved to %s", filename, exc, self.bad_folder)
        with contextlib.suppress(OSError):
            os.replace(claimed, os.path.join(self.bad_folder, filename))

    def _size(self, queue):
        wanted = f"{queue}.msg"
        return sum(1 for name in os.listdir(self.data_folder_in) if name.partition(".")[2] == wanted)

    # --- exchange tables ----------------------------------------------------------------------

    def get_table(self, exchange):
        file = self._exchange_file(exchange)
        try:
            data = file.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot open {file}") from exc
        try:
            table = loads(bytes_to_str(data))
        except ValueError:
            logger.error("broker: exchange table %s is unreadable; treating it as empty", file)
            return []
        return [filesystem.exchange_queue_t(*q) for q in table]

    def _rewrite_table(self, exchange, change) -> None:
        """Read, ``change(queues)`` and atomically replace the table, under a lock file (so
        two binders do not lose each other's entry)."""
        file = self._exchange_file(exchange)
        self.control_folder.mkdir(exist_ok=True)
        lock_path = file.with_suffix(".lock")
        with open(lock_path, "a+b") as lock_file:
            filesystem.lock(lock_file, filesystem.LOCK_EX)
            try:
                queues = self.get_table(exchange)
                new = change(list(queues))
                if new != queues:
                    write_atomically(file, str_to_bytes(dumps(new)), temp_folder=self.temp_folder)
            finally:
                filesystem.unlock(lock_file)

    def _queue_bind(self, exchange, routing_key, pattern, queue):
        entry = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        try:
            self._rewrite_table(exchange, lambda queues: queues if entry in queues else [entry, *queues])
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot bind {queue!r} to {exchange!r}") from exc

    def _delete(self, queue, exchange, routing_key, pattern, *args, **kwargs):
        filesystem.virtual.Channel._delete(self, queue, exchange, routing_key, pattern, *args, **kwargs)
        entry = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        self._rewrite_table(exchange, lambda queues: [q for q in queues if q != entry])


class Transport(filesystem.Transport):
    Channel = Channel


def temp_files_prune(temp_folder: Path | str, *, older_than: float = STALE_TEMP_SECONDS) -> int:
    """Remove temporary files a crashed writer left behind; returns how many."""
    removed = 0
    cutoff = time.time() - older_than
    for entry in os.scandir(temp_folder):
        try:
            if entry.name.endswith(".tmp") and entry.stat().st_mtime < cutoff:
                os.remove(entry.path)
                removed += 1
        except OSError:
            continue
    return removed
