"""Another server of the production build the shared app made (`python -m tests.e2e.second_app
HOST PORT`), so a second pytest worker can drive the dashboard beside the first.

The build bakes its port into the frontend; the page reaches the backend on the host the page was
loaded from. So this server listens on the same port at another loopback address, serves the
same built files (Reflex's own mount of them) and skips the compile and the frontend build.
"""

from __future__ import annotations

import sys

from reflex.utils import exec as reflex_exec
from reflex_base import constants
from reflex_base.config import get_config
from reflex_base.environment import environment


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    environment.REFLEX_ENV_MODE.set(constants.Env.PROD)
    environment.REFLEX_SKIP_COMPILE.set(True)
    # As `reflex run --env prod` does: the app reads its own address (api_url) from these.
    get_config()._set_persistent(frontend_port=port, backend_port=port)
    reflex_exec.run_backend_prod(
        host, port, constants.LogLevel.ERROR, mount_frontend_compiled_app=True
    )


if __name__ == "__main__":
    main()
