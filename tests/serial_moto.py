"""moto with one request at a time: ``python -m tests.serial_moto PORT``.

DynamoDB applies conditional writes to an item one at a time; moto's threaded server does
not (two UpdateItem calls can read the same old value and both succeed). Serving requests
one by one restores DynamoDB's semantics, while the clients stay fully concurrent.
"""

from __future__ import annotations

import sys

from moto.moto_server.threaded_moto_server import (
    DomainDispatcherApplication,
    create_backend_app,
)
from werkzeug.serving import run_simple

if __name__ == "__main__":
    app = DomainDispatcherApplication(create_backend_app)
    run_simple("127.0.0.1", int(sys.argv[1]), app, threaded=False, use_reloader=False)
