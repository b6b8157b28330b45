#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Print the extra QEMU parameters (line 1) and kernel command line (line 2)
of a kunit.py --qemu_config file, for scripts that boot QEMU themselves."""
import importlib.util
import shlex
import sys
import types

# The config does "from ..qemu_config import QemuArchParams": provide it.
pkg = types.ModuleType("cfgpkg")
pkg.__path__ = []
sub = types.ModuleType("cfgpkg.sub")
sub.__path__ = []
qc = types.ModuleType("cfgpkg.qemu_config")
qc.QemuArchParams = lambda **kw: kw
sys.modules.update({"cfgpkg": pkg, "cfgpkg.sub": sub, "cfgpkg.qemu_config": qc})
spec = importlib.util.spec_from_file_location("cfgpkg.sub.cfg", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
print(shlex.join(mod.QEMU_ARCH["extra_qemu_params"]))
print(mod.QEMU_ARCH["kernel_command_line"])
