"""moto's server (`moto_server -H HOST -p PORT`), with every request handled under one lock.

DynamoDB applies each conditional write atomically: of two `UpdateItem`s racing on an item
with the same condition, one succeeds. moto's server handles requests on threads and checks a
condition, then writes, with nothing held in between, so under load both can succeed
(measured here: two winners in 6 of 150 rounds of four racing clients on a loaded 2-core
machine; dynalite, which serves one request at a time, 0 of 150). The fleet tests (one probe
per fleet, one run of the handler per key, exactly the limit admitted) assert DynamoDB's
behaviour, so moto serves here one request at a time, connections still on their own threads.
"""
import argparse
import os
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


class OneAtATime:
    """Runs the wrapped WSGI app, body included, under one lock."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            body = self.app(environ, start_response)
            try:
                return [b"".join(body)]
            finally:
                if hasattr(body, "close"):
                    body.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, OneAtATime(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
