# SPDX-License-Identifier: GPL-3.0-or-later
"""Stand-in for the get-pip.py that ansible-test downloads from ci-files.testing.ansible.com.

That host is not reachable from these machines (only PyPI is), so `make sanity` installs this
file where ansible-test caches its bootstrap script. Like get-pip.py it takes pip install
arguments plus --no-setuptools / --no-wheel: it seeds pip from the interpreter's own ensurepip
wheel, then lets that pip install what ansible-test asked for from PyPI.
"""

import subprocess
import sys

GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}

args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
subprocess.run([sys.executable, "-m", "ensurepip", "--upgrade"], check=True, stdout=subprocess.DEVNULL)
subprocess.run([sys.executable, "-m", "pip", "install", *args], check=True)
if "--no-setuptools" in sys.argv:
    subprocess.run([sys.executable, "-m", "pip", "uninstall", "--yes", "--quiet", "setuptools"], check=True)
