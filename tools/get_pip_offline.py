"""Offline replacement for ansible-test's pip bootstrap script (get-pip.py).

ansible-test bootstraps pip into each sanity virtualenv with a get-pip.py it
downloads from a CI host that this machine cannot reach. This script does the
same job from what is at hand: the standard library's ensurepip, then pip
installs the requested packages from PyPI. tools/sanity.sh puts it where
ansible-test looks for its cached copy.
"""
import subprocess
import sys

# get-pip.py's own flags; everything else is a pip install argument.
OWN_FLAGS = {"--no-setuptools", "--no-wheel"}

# In a child process: ensurepip sets PIP_CONFIG_FILE=/dev/null in the
# environment of the process that calls it, which would hide the machine's
# pip configuration (e.g. its CA bundle) from the install below.
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"], stdout=subprocess.DEVNULL)
pip_args = [arg for arg in sys.argv[1:] if arg not in OWN_FLAGS]
if pip_args:
    subprocess.check_call([sys.executable, "-m", "pip", "install"] + pip_args)
