"""Stand-in for ansible-test's get-pip bootstrap script.

ansible-test downloads ``get-pip-<version>.py`` from a CI file host that this network cannot reach; it
runs the script as ``python get-pip.py [pip options] pip==X setuptools==Y ...``. This does the same
from the interpreter's bundled pip (ensurepip) and the package index pip is configured for.
"""

import subprocess
import sys

args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
# ensurepip in-process would set PIP_CONFIG_FILE=/dev/null for the rest of this process.
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
subprocess.check_call([sys.executable, "-m", "pip", "install", *args])
