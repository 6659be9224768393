"""The SMTP server of the delivery benchmark, on loopback (aiosmtpd).

It accepts every message and keeps nothing but a count. With a delay it waits
that long before answering the end of DATA, without blocking other
connections, as a real relay does while it spools, scans and hands the
message on; without one it answers at once (the best case for the client).
On SIGTERM it writes the count to the file named in its arguments.

    python -m benchmarks.smtp_sink PORT DELAY_MS COUNT_FILE"""

import asyncio
import signal
import sys
import threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, delay: float):
        self.delay = delay
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        self.count += 1
        return "250 Message accepted"


def main(port: str, delay_ms: str, count_file: str) -> None:
    sink = Sink(float(delay_ms) / 1000)
    controller = Controller(sink, hostname="127.0.0.1", port=int(port))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    controller.start()
    try:
        stop.wait(timeout=3600)  # never outlives a benchmark run
    finally:
        controller.stop()
        with open(count_file, "w") as handle:
            handle.write(str(sink.count))


if __name__ == "__main__":
    main(*sys.argv[1:])
